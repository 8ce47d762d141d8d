import Foundation
import Hummingbird
import PlumbAPI
import PlumbLogs
import PlumbMetrics

/// The logs API as a controller: `/api/v1/logs…` — groups, streams, search, tail, retention and ingest for external
/// producers (the metric filters, `/api/v1/metric-filters…`, are `MetricFilterRoutes`).
///
/// Group names hold slashes (`/plumb/server`), so in paths they are percent-encoded: `/api/v1/logs/%2Fplumb%2Fserver`.
struct LogRoutes {
    let store: any LogStoring
    /// How long a tail may stay silent before it writes an empty line.
    var tailHeartbeat: Duration = .seconds(2)

    /// Parses the stored API metric filters and installs them (at start and after each change).
    static func installAPIFilters(_ store: any LogStoring) async throws {
        try await MetricFilterRoutes.installAPIFilters(store)
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        MetricFilterRoutes(store: store).register(api: api)
        api.get("logs", use: listGroups)
        api.get("logs/:group/streams", use: listStreams)
        api.get("logs/:group/tail", use: tail)
        api.put("logs/:group/retention", use: putRetention)
        api.post("logs/:group/:stream", use: putEvents)
        api.get("logs/:group", use: search)
        api.delete("logs/:group", use: deleteGroup)
    }

    /// Every group (or those under `prefix`) with its event counts and retention.
    @Sendable func listGroups(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let groups = try await store.groups(prefix: request.queryDictionary["prefix"])
        return try .json(LogGroupsResponse(groups: groups.map(LogGroupDescription.init)))
    }

    @Sendable func listStreams(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let streams = try await store.streams(group: try Self.parameter("group", context))
        return try .json(LogStreamsResponse(streams: streams.map(LogStreamDescription.init)))
    }

    /// Follows a group as NDJSON (`LogTail`): `filter` (a pattern), `stream` (a prefix), `seconds` (0: until the
    /// client goes away).
    @Sendable func tail(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let group = try Self.parameter("group", context)
        let query = request.queryDictionary
        let pattern = try Self.pattern(query["filter"])
        let seconds = try request.intParameter("seconds", default: 0, range: 0...86_400)
        let tail = LogTail(
            store: store, group: group, pattern: pattern, streamPrefix: query["stream"], seconds: seconds,
            heartbeat: tailHeartbeat,
            start: try await store.lastEventID())
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: tail.body())
    }

    /// How many days the group keeps its events (null: forever); the audit group's is the admin's.
    @Sendable func putRetention(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let group = try Self.parameter("group", context)
        if group == PlatformNames.auditGroup {
            try PlatformNames.requireAdmin(context.caller, "the retention of \(group)")
        }
        let body = try await request.decodeJSON(RetentionRequest.self, limit: 1_024)
        try await store.setRetention(group: group, days: body.days)
        return try .json(RetentionResponse(group: group, retentionDays: body.days.map(String.init) ?? "never"))
    }

    /// Deletes a group with its streams, events and the metric filters made through an API on it. The audit trail is
    /// never deleted (its retention bounds it), and the server's other groups (`/plumb/…`) only by the admin.
    @Sendable func deleteGroup(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let group = try Self.parameter("group", context)
        if group == PlatformNames.auditGroup {
            throw APIError(
                status: 403, code: "AccessDenied",
                "\(group) is the audit trail and is never deleted; its retention bounds it")
        }
        if PlatformNames.isPlatformLogGroup(group) {
            try PlatformNames.requireAdmin(context.caller, "deleting \(group)")
        }
        try await store.deleteGroupAndItsFilters(group)
        return Response(status: .noContent)
    }

    /// PutLogEvents for external producers; the groups under `/plumb/` are the server's own. The group's metric
    /// filters turn matching events into samples, stored with them.
    @Sendable func putEvents(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let group = try Self.parameter("group", context)
        let stream = try Self.parameter("stream", context)
        guard !PlatformNames.isPlatformLogGroup(group) else {
            throw APIError(status: 403, code: "AccessDenied", "log groups under /plumb/ are written by the server only")
        }
        // A batch is at most 1 MB of messages plus overhead; JSON escaping may add some, so allow headroom.
        let body = try await request.decodeJSON(PutLogEventsRequest.self, limit: 2 * LogLimits.maxBatchBytes)
        let now = store.clock()
        let events = try body.events.enumerated().map { i, e -> InputLogEvent in
            guard let ts = e.timestamp == nil ? now : e.timestamp.flatMap(Checked.epochMilliseconds) else {
                throw LogsError(
                    "events[\(i)].timestamp must be epoch milliseconds (within ±\(Int64(Checked.maxEpochSeconds * 1_000)))"
                )
            }
            return InputLogEvent(timestamp: ts, message: e.message)
        }
        // The metric filters' samples are stored with the batch, in its transaction (LogStore's sample sink).
        let samples = try await store.put(group: group, stream: stream, events: events)
        return try .json(PutLogEventsResponse(accepted: events.count, metricSamples: samples.count))
    }

    /// FilterLogEvents: a page of the group's events matching `filter` between `start` and `end`, oldest or newest
    /// first, `next` continuing.
    @Sendable func search(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let group = try Self.parameter("group", context)
        let page = try await store.filter(try Self.logQuery(group: group, request, now: Double(store.clock()) / 1_000))
        return try .json(
            LogEventsResponse(
                events: page.events.map(LogEventDescription.init), next: page.nextToken, scanned: page.scanned))
    }

    /// The search's parameters, checked in the order the server always checked them (filter, order, start, end, limit).
    static func logQuery(group: String, _ request: Request, now: Double) throws -> LogQuery {
        let query = request.queryDictionary
        func time(_ name: String) throws -> Int64? {
            guard let text = query[name] else { return nil }
            guard let seconds = TimeParsing.queryTime(text, now: now) else {
                throw APIError("\(name) must be \(TimeParsing.queryTimeForms)")
            }
            return Int64((seconds * 1_000).rounded(.down))
        }
        let pattern = try pattern(query["filter"])
        let order = query["order"] ?? "oldest"
        guard order == "oldest" || order == "newest" else { throw APIError("order must be oldest or newest") }
        return LogQuery(
            group: group, pattern: pattern, start: try time("start") ?? 0, end: try time("end") ?? .max,
            streamPrefix: query["stream"],
            limit: try request.intParameter("limit", default: 100, range: 1...10_000), descending: order == "newest",
            token: query["next"])
    }

    /// The `filter` parameter as a pattern, refused with the parser's reason.
    static func pattern(_ text: String?) throws -> FilterPattern? {
        guard let text else { return nil }
        do { return try FilterPattern(text) } catch { throw LogsError("filter: \(error.message)") }
    }

    static func parameter(_ name: String, _ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get(name), !raw.isEmpty else { throw APIError("\(name) is required") }
        return raw.removingPercentEncoding ?? raw
    }
}
