import Foundation
import Hummingbird
import PlumbAPI
import PlumbAlarms

/// The alarms API as a controller: `/api/v1/alarms…` — list, describe, create/replace, delete, history, set-state
/// and reload of the alert files.
///
/// The body of a `PUT` is one alarm as in an alert file (`AlarmDocument`, JSON or YAML), read by the alert-file
/// parser so that its refusals name the line and field as a file's would.
struct AlarmRoutes {
    let engine: AlarmEngine
    let clock: @Sendable () -> Int64
    /// Re-reads the alert files (as SIGHUP does): the alarms and topics they now declare.
    let reload: @Sendable () async throws(AlertFileErrors) -> (alarms: Int, topics: Int)

    init(
        engine: AlarmEngine, clock: @escaping @Sendable () -> Int64,
        reload: @escaping @Sendable () async throws(AlertFileErrors) -> (alarms: Int, topics: Int)
    ) {
        self.engine = engine
        self.clock = clock
        self.reload = reload
    }

    init(server: PlumbServer) {
        self.init(
            engine: server.alarms, clock: server.store.clock,
            reload: { () async throws(AlertFileErrors) in try await server.reloadAlerts() })
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("alarms", use: list)
        api.post("alarms/reload", use: reloadFiles)
        api.get("alarms/:name", use: get)
        api.put("alarms/:name", use: put)
        api.delete("alarms/:name", use: delete)
        api.get("alarms/:name/history", use: history)
        api.post("alarms/:name/state", use: setState)
    }

    /// The alarm as the API shows it, with the silence that holds it now.
    func describe(_ status: AlarmEngine.Status) -> AlarmDescription {
        var description = AlarmDescription(status)
        description.silence = engine.silences.active(for: status.definition.name, at: clock()).map(SilenceSummary.init)
        return description
    }

    /// Every alarm, filtered by `state`, `type` (metric or composite) and name `prefix`.
    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let query = request.queryDictionary
        var list = engine.list()
        if let state = query["state"] {
            guard let wanted = AlarmState(rawValue: state) else {
                throw APIError("state must be OK, ALARM or INSUFFICIENT_DATA")
            }
            list = list.filter { $0.state == wanted }
        }
        if let type = query["type"] {
            guard ["metric", "composite"].contains(type) else { throw APIError("type must be metric or composite") }
            list = list.filter { $0.definition.kind == type }
        }
        if let prefix = query["prefix"] { list = list.filter { $0.definition.name.hasPrefix(prefix) } }
        return try .json(AlarmListResponse(alarms: list.map(describe)))
    }

    /// Reloads the alert files; a file with errors changes nothing and each problem is listed (file, line, field).
    @Sendable func reloadFiles(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let counts: (alarms: Int, topics: Int)
        do {
            counts = try await reload()
        } catch {
            throw APIError(
                code: "InvalidAlertFiles", "alert files not reloaded; the previous alarms stay",
                problems: error.errors.map {
                    ErrorBody.Problem(file: $0.file, line: $0.line, field: $0.field, message: $0.message)
                })
        }
        return try .json(ReloadAlarmsResponse(alarms: counts.alarms, topics: counts.topics))
    }

    @Sendable func get(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try Self.name(context)
        guard let status = engine.status(name) else {
            throw AlarmError(status: 404, code: "ResourceNotFound", "no alarm named '\(name)'")
        }
        return try .json(describe(status))
    }

    /// Creates (201) or replaces (200) an alarm made through the API.
    @Sendable func put(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try Self.name(context)
        let body = try await request.collectBody(limit: 64 * 1_024)
        guard !body.isEmpty else {
            throw APIError(code: "MissingParameter", "a JSON body describing the alarm is required")
        }
        let existed = engine.status(name) != nil
        let status = try await engine.put(name: name, document: String(decoding: body, as: UTF8.self), now: clock())
        return try .json(describe(status), status: existed ? .ok : .created)
    }

    @Sendable func delete(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await engine.delete(name: try Self.name(context))
        return Response(status: .noContent)
    }

    /// Newest first: `limit` (1–1000), `type` (StateUpdate, ConfigurationUpdate or Action), `before` (a time).
    @Sendable func history(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try Self.name(context)
        let limit = try request.intParameter("limit", default: 100, range: 1...1_000)
        let type = request.queryDictionary["type"]
        if let type, !["StateUpdate", "ConfigurationUpdate", "Action"].contains(type) {
            throw APIError("type must be StateUpdate, ConfigurationUpdate or Action")
        }
        var before: Int64?
        if let text = request.queryDictionary["before"] {
            guard let t = TimeParsing.querySeconds(text, now: Double(clock())) else {
                throw APIError("before must be \(TimeParsing.queryTimeForms)")
            }
            before = t
        }
        let items = try await engine.history(of: name, type: type, limit: limit, before: before)
        return try .json(AlarmHistoryResponse(name: name, history: items.map(AlarmHistoryResponse.Item.init)))
    }

    /// Sets the state until the next evaluation (to test actions); notifies as a real change would.
    @Sendable func setState(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try Self.name(context)
        let body = try await request.decodeJSON(SetAlarmStateRequest.self, limit: 16 * 1_024)
        guard let state = AlarmState(rawValue: body.state) else {
            throw APIError("state must be OK, ALARM or INSUFFICIENT_DATA")
        }
        try await engine.setState(name, state, reason: body.reason, reasonData: body.reasonData, now: clock())
        return try .json(describe(engine.status(name)!))
    }

    static func name(_ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get("name"), !raw.isEmpty else {
            throw APIError("an alarm name is required")
        }
        return raw.removingPercentEncoding ?? raw
    }
}
