import PlumbAPI
import Foundation
import Hummingbird
import NIOCore
import PlumbAlarms
import PlumbLogs
import PlumbMetrics
import PlumbStore
import ServiceLifecycle

/// `/api/v1/logs…`: ingest for external producers, groups, streams and search.
///
/// Group names hold slashes (`/plumb/server`), so in paths they are percent-encoded: `/api/v1/logs/%2Fplumb%2Fserver`.
struct LogRoutes {
    let store: LogStore
    /// How long a tail may stay silent before it writes an empty line.
    var tailHeartbeat: Duration = .seconds(2)

    struct PutRequest: Decodable {
        struct Event: Decodable {
            let timestamp: Double?
            let message: String
        }

        let events: [Event]
    }

    struct EventDescription: Encodable {
        let id: Int64
        let stream: String
        let timestamp: Int64
        let time: String
        let ingestionTime: Int64
        let message: String
    }

    struct FilterDescription: Encodable {
        let name: String
        let logGroup: String
        let pattern: String
        let namespace: String
        let metric: String
        let value: String
        let defaultValue: Double?
        let unit: String?
        let dimensions: [String: String]
        let source: String
    }

    static func describe(_ f: MetricFilter, fromFile: Bool) -> FilterDescription {
        let value: String = switch f.value {
        case .constant(let v): v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .field(let name): "$" + name
        }
        return FilterDescription(
            name: f.name, logGroup: f.group, pattern: f.pattern.text, namespace: f.namespace, metric: f.metric, value: value,
            defaultValue: f.defaultValue, unit: f.unit?.rawValue, dimensions: f.dimensions, source: fromFile ? "file" : "api")
    }

    /// Parses the stored API documents and installs them (at start and after each change).
    static func installAPIFilters(_ store: LogStore) throws {
        var list: [MetricFilter] = []
        for (name, document) in try store.storedMetricFilterDocuments() {
            if case .success(let filter) = AlertFileParser.parseMetricFilterDocument(document, name: name) { list.append(filter) }
        }
        store.setAPIMetricFilters(list)
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("metric-filters") { _, _ in
            struct R: Encodable { let metricFilters: [FilterDescription] }
            return try Response.json(R(metricFilters: store.metricFilters.map { Self.describe($0.filter, fromFile: $0.fromFile) }))
        }
        api.put("metric-filters/:name") { request, context in
            let name = try Self.parameter("name", context)
            if store.metricFilters.contains(where: { $0.filter.name == name && $0.fromFile }) {
                throw APIError(status: 409, code: "ResourceConflict", "metric filter '\(name)' is declared in an alert file")
            }
            let document = String(decoding: try await request.collectBody(limit: 16 * 1_024), as: UTF8.self)
            switch AlertFileParser.parseMetricFilterDocument(document, name: name) {
            case .failure(let errors):
                throw APIError(errors.errors.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.joined(separator: "; "))
            case .success(let filter):
                if filter.group == PlatformNames.auditGroup {
                    try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
                }
                if PlatformNames.isPlatformNamespace(filter.namespace) {
                    try PlatformNames.requireAdmin(context.caller, "namespace '\(filter.namespace)'")
                }
                if let old = store.metricFilters.first(where: { $0.filter.name == name }), old.filter.group == PlatformNames.auditGroup {
                    try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
                }
                try store.storeMetricFilterDocument(name: name, document: document)
                try Self.installAPIFilters(store)
                return try Response.json(Self.describe(filter, fromFile: false))
            }
        }
        api.delete("metric-filters/:name") { _, context in
            let name = try Self.parameter("name", context)
            guard let existing = store.metricFilters.first(where: { $0.filter.name == name && !$0.fromFile }) else {
                throw APIError(status: 404, code: "ResourceNotFoundException", "no metric filter '\(name)' created through the API")
            }
            if existing.filter.group == PlatformNames.auditGroup {
                try PlatformNames.requireAdmin(context.caller, "a metric filter on \(PlatformNames.auditGroup)")
            }
            try store.storeMetricFilterDocument(name: name, document: nil)
            try Self.installAPIFilters(store)
            return Response(status: .noContent)
        }
        api.get("logs") { request, _ in
            struct Item: Encodable {
                let name: String
                let retentionDays: Int?
                let storedEvents: Int
                let archivedEvents: Int
                let archiveCompressionRatio: Double?
                let createdAt: String
            }
            struct R: Encodable { let groups: [Item] }
            let groups = try store.groups(prefix: request.queryDictionary["prefix"])
            return try Response.json(R(groups: groups.map {
                Item(
                    name: $0.name, retentionDays: $0.retentionDays, storedEvents: $0.storedEvents, archivedEvents: $0.archivedEvents,
                    archiveCompressionRatio: $0.archiveCompressedBytes > 0 ? Double($0.archiveRawBytes) / Double($0.archiveCompressedBytes) : nil,
                    createdAt: TimeParsing.format($0.createdAt / 1_000))
            }))
        }
        api.get("logs/:group/streams") { _, context in
            struct Item: Encodable {
                let name: String
                let lastEventAt: String?
            }
            struct R: Encodable { let streams: [Item] }
            let streams = try store.streams(group: try Self.parameter("group", context))
            return try Response.json(R(streams: streams.map { Item(name: $0.name, lastEventAt: $0.lastEventAt.map { TimeParsing.format($0 / 1_000) }) }))
        }
        // Follows a group: new events as NDJSON lines, as they are stored, until the client goes away, `seconds`
        // pass or the server shuts down. A quiet tail writes an empty line every `heartbeat`: that is how a client
        // that went away is noticed (the write fails), so its socket does not linger in CLOSE-WAIT holding the
        // shutdown; proxies that drop idle connections keep it open too.
        api.get("logs/:group/tail") { request, context -> Response in
            let group = try Self.parameter("group", context)
            let query = request.queryDictionary
            var pattern: FilterPattern?
            if let text = query["filter"] {
                do { pattern = try FilterPattern(text) } catch let error as FilterPatternError { throw LogsError("filter: \(error.message)") }
            }
            let prefix = query["stream"]
            let seconds = try request.intParameter("seconds", default: 0, range: 0...86_400)
            let start = try store.lastEventID()
            let store = self.store
            let filter = pattern
            let heartbeat = tailHeartbeat
            let body = ResponseBody { writer in
                var cursor = start
                let deadline = seconds > 0 ? ContinuousClock.now + .seconds(seconds) : nil
                var lastWrite = ContinuousClock.now
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    if let deadline, ContinuousClock.now >= deadline { break }
                    let events = try store.events(in: group, after: cursor)
                    var buffer = ByteBuffer()
                    for event in events {
                        cursor = event.id
                        if let prefix, !event.stream.hasPrefix(prefix) { continue }
                        if let filter, !filter.matches(event.message) { continue }
                        let line = EventDescription(
                            id: event.id, stream: event.stream, timestamp: event.timestamp, time: Self.millisTime(event.timestamp),
                            ingestionTime: event.ingestionTime, message: event.message)
                        buffer.writeBytes(try PlumbJSON.encoder.encode(line))
                        buffer.writeString("\n")
                    }
                    if buffer.readableBytes > 0 || ContinuousClock.now - lastWrite >= heartbeat {
                        if buffer.readableBytes == 0 { buffer.writeString("\n") }
                        try await writer.write(buffer)
                        lastWrite = ContinuousClock.now
                    }
                    if events.count < 1_000 { try? await Task.sleep(for: .milliseconds(250)) }
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
        }
        api.put("logs/:group/retention") { request, context in
            struct Body: Decodable {
                let days: Int?
                enum CodingKeys: String, CodingKey { case days }
                init(from decoder: Decoder) throws {
                    let c = try decoder.container(keyedBy: CodingKeys.self)
                    guard c.contains(.days) else { throw APIError(code: "MissingParameter", "'days' is required (null: never expire)") }
                    days = try c.decodeNil(forKey: .days) ? nil : try c.decode(Int.self, forKey: .days)
                }
            }
            let group = try Self.parameter("group", context)
            if group == PlatformNames.auditGroup { try PlatformNames.requireAdmin(context.caller, "the retention of \(group)") }
            let body = try await request.decodeJSON(Body.self, limit: 1_024)
            try store.setRetention(group: group, days: body.days)
            return try Response.json(["group": group, "retentionDays": body.days.map(String.init) ?? "never"])
        }
        api.post("logs/:group/:stream") { request, context in
            let group = try Self.parameter("group", context)
            let stream = try Self.parameter("stream", context)
            guard !PlatformNames.isPlatformLogGroup(group) else {
                throw APIError(status: 403, code: "AccessDenied", "log groups under /plumb/ are written by the server only")
            }
            // A batch is at most 1 MB of messages plus overhead; JSON escaping may add some, so allow headroom.
            let body = try await request.decodeJSON(PutRequest.self, limit: 2 * LogLimits.maxBatchBytes)
            let now = store.clock()
            let events = try body.events.enumerated().map { i, e -> InputLogEvent in
                guard let ts = e.timestamp == nil ? now : e.timestamp.flatMap(Checked.epochMilliseconds) else {
                    throw LogsError("events[\(i)].timestamp must be epoch milliseconds (within ±\(Int64(Checked.maxEpochSeconds * 1_000)))")
                }
                return InputLogEvent(timestamp: ts, message: e.message)
            }
            // The metric filters' samples are stored with the batch, in its transaction (LogStore(samples:)).
            let samples = try store.put(group: group, stream: stream, events: events)
            return try Response.json(["accepted": events.count, "metricSamples": samples.count])
        }
        api.get("logs/:group") { request, context in
            let group = try Self.parameter("group", context)
            let query = request.queryDictionary
            let now = Double(store.clock()) / 1_000
            func time(_ name: String) throws -> Int64? {
                guard let text = query[name] else { return nil }
                guard let seconds = TimeParsing.queryTime(text, now: now) else {
                    throw APIError("\(name) must be \(TimeParsing.queryTimeForms)")
                }
                return Int64((seconds * 1_000).rounded(.down))
            }
            var pattern: FilterPattern?
            if let text = query["filter"] {
                do { pattern = try FilterPattern(text) } catch let error as FilterPatternError { throw LogsError("filter: \(error.message)") }
            }
            let order = query["order"] ?? "oldest"
            guard order == "oldest" || order == "newest" else { throw APIError("order must be oldest or newest") }
            let page = try store.filter(LogQuery(
                group: group, pattern: pattern, start: try time("start") ?? 0, end: try time("end") ?? .max,
                streamPrefix: query["stream"], limit: try request.intParameter("limit", default: 100, range: 1...10_000),
                descending: order == "newest", token: query["next"]))
            struct R: Encodable {
                let events: [EventDescription]
                let next: String?
                let scanned: Int
            }
            return try Response.json(R(
                events: page.events.map {
                    EventDescription(id: $0.id, stream: $0.stream, timestamp: $0.timestamp, time: Self.millisTime($0.timestamp), ingestionTime: $0.ingestionTime, message: $0.message)
                },
                next: page.nextToken, scanned: page.scanned))
        }
    }

    static func parameter(_ name: String, _ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get(name), !raw.isEmpty else { throw APIError("\(name) is required") }
        return raw.removingPercentEncoding ?? raw
    }

    /// RFC 3339 with milliseconds, built on TimeParsing.format (no formatter per event on the search path).
    static func millisTime(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1_000 : (ms - 999) / 1_000
        let millis = ms - seconds * 1_000
        let whole = TimeParsing.format(seconds)
        return String(whole.dropLast()) + "." + String(format: "%03d", millis) + "Z"
    }
}
