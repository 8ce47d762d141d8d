import PlumbAPI
import Foundation
import Hummingbird
import NIOCore
import PlumbAlarms
import PlumbMetrics

/// `/api/v1/alarms…`: list, describe, create/replace, delete, history, set-state, reload.
struct AlarmRoutes {
    let server: PlumbServer

    var engine: AlarmEngine { server.alarms }

    struct AlarmDescription: Encodable {
        var name: String
        var type: String
        var source: String
        var description: String?
        var state: String
        var stateReason: String
        var stateReasonData: String?
        var stateUpdatedAt: String
        var lastEvaluatedAt: String?
        var alarmActions: [String]
        var okActions: [String]
        var insufficientDataActions: [String]
        var severity: String?
        /// The active silence holding the alarm's notifications, if any.
        var silence: SilenceRoutes.SilenceSummary?
        // Metric alarms
        var namespace: String?
        var metric: String?
        var dimensions: [String: String]?
        var statistic: String?
        var period: Int64?
        var evaluationPeriods: Int?
        var datapointsToAlarm: Int?
        var comparison: String?
        var threshold: Double?
        var treatMissingData: String?
        var evaluateLowSampleCountPercentile: String?
        /// Metric math alarms: each query as `id: expression` or `id: Namespace/Metric{dims} Stat`, the watched one
        /// marked `(returned)`.
        var metrics: [String]?
        // Composite alarms
        var rule: String?
        var actionsSuppressor: String?
        var waitPeriod: Int64?
        var extensionPeriod: Int64?
    }

    /// The alarm as the API shows it, with the silence that holds it now.
    func describe(_ s: AlarmEngine.Status) -> AlarmDescription {
        var d = Self.describe(s)
        let now = server.store.clock()
        d.silence = engine.silences.active(for: s.definition.name, at: now).map(SilenceRoutes.SilenceSummary.init)
        return d
    }

    static func describe(_ s: AlarmEngine.Status) -> AlarmDescription {
        let source: String = switch s.origin {
        case .file(let location): "file:\(location)"
        case .api: "api"
        }
        let actions = s.definition.actions
        var d = AlarmDescription(
            name: s.definition.name, type: s.definition.kind, source: source, state: s.state.rawValue, stateReason: s.reason,
            stateReasonData: s.reasonData, stateUpdatedAt: TimeParsing.format(s.updatedAt),
            lastEvaluatedAt: s.lastEvaluatedAt.map(TimeParsing.format), alarmActions: actions.alarm, okActions: actions.ok,
            insufficientDataActions: actions.insufficientData, severity: s.definition.severity)
        switch s.definition {
        case .metric(let a):
            d.description = a.description
            d.namespace = a.series.namespace
            d.metric = a.series.name
            d.dimensions = a.series.dimensionDictionary
            d.statistic = a.statistic.description
            d.period = a.period
            d.evaluationPeriods = a.evaluationPeriods
            d.datapointsToAlarm = a.datapointsToAlarm
            d.comparison = a.comparison.rawValue
            d.threshold = a.threshold
            d.treatMissingData = a.treatMissingData.rawValue
            d.evaluateLowSampleCountPercentile = a.evaluateLowSampleCountPercentile ? "evaluate" : "ignore"
            if let queries = a.metrics {
                (d.namespace, d.metric, d.dimensions, d.statistic) = (nil, nil, nil, nil)
                d.metrics = queries.map { q in
                    let what: String = switch q.source {
                    case .expression(_, let text): text
                    case .metric(let series, let stat): "\(series.namespace)/\(series.name)\(series.dimensionDictionary.isEmpty ? "" : "\(series.dimensionDictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })") \(stat.description)"
                    }
                    return "\(q.id): \(what)\(q.returnData ? " (returned)" : "")"
                }
            }
        case .composite(let a):
            d.description = a.description
            d.rule = a.ruleText
            d.actionsSuppressor = a.actionsSuppressor
            if a.actionsSuppressor != nil {
                d.waitPeriod = a.waitPeriod
                d.extensionPeriod = a.extensionPeriod
            }
        }
        return d
    }

    struct ListResponse: Encodable { let alarms: [AlarmDescription] }

    struct HistoryResponse: Encodable {
        struct Item: Encodable {
            let type: String
            let timestamp: String
            let summary: String
            let data: String?
        }

        let name: String
        let history: [Item]
    }

    struct StateRequest: Decodable {
        let state: String
        let reason: String
        let reasonData: String?

        enum CodingKeys: String, CodingKey {
            case state, reason
            case reasonData = "reason_data"
        }
    }

    struct ReloadResponse: Encodable {
        let alarms: Int
        let topics: Int
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("alarms") { request, _ in
            let query = request.queryDictionary
            var list = engine.list()
            if let state = query["state"] {
                guard let wanted = AlarmState(rawValue: state) else { throw APIError("state must be OK, ALARM or INSUFFICIENT_DATA") }
                list = list.filter { $0.state == wanted }
            }
            if let type = query["type"] {
                guard ["metric", "composite"].contains(type) else { throw APIError("type must be metric or composite") }
                list = list.filter { $0.definition.kind == type }
            }
            if let prefix = query["prefix"] { list = list.filter { $0.definition.name.hasPrefix(prefix) } }
            return try Response.json(ListResponse(alarms: list.map(describe)))
        }
        api.post("alarms/reload") { _, _ -> Response in
            do {
                let (alarms, topics) = try server.reloadAlerts()
                return try Response.json(ReloadResponse(alarms: alarms, topics: topics))
            } catch let error as AlertFileErrors {
                let body: [String: Any] = [
                    "error": ["code": "InvalidAlertFiles", "message": "alert files not reloaded; the previous alarms stay"],
                    "errors": error.errors.map { ["file": $0.file, "line": $0.line, "field": $0.field, "message": $0.message] as [String: Any] },
                ]
                let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
                return Response(status: .badRequest, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
            } catch {
                throw error
            }
        }
        api.get("alarms/:name") { _, context in
            let name = try Self.name(context)
            guard let status = engine.status(name) else { throw AlarmError(status: 404, code: "ResourceNotFound", "no alarm named '\(name)'") }
            return try Response.json(describe(status))
        }
        api.put("alarms/:name") { request, context in
            let name = try Self.name(context)
            let body = try await request.collectBody(limit: 64 * 1_024)
            guard !body.isEmpty else { throw APIError(code: "MissingParameter", "a JSON body describing the alarm is required") }
            let existed = engine.status(name) != nil
            let status = try engine.put(name: name, document: String(decoding: body, as: UTF8.self), now: server.store.clock())
            return try Response.json(describe(status), status: existed ? .ok : .created)
        }
        api.delete("alarms/:name") { _, context in
            try engine.delete(name: try Self.name(context))
            return Response(status: .noContent)
        }
        api.get("alarms/:name/history") { request, context in
            let name = try Self.name(context)
            let limit = try request.intParameter("limit", default: 100, range: 1...1_000)
            let type = request.queryDictionary["type"]
            if let type, !["StateUpdate", "ConfigurationUpdate", "Action"].contains(type) {
                throw APIError("type must be StateUpdate, ConfigurationUpdate or Action")
            }
            var before: Int64?
            if let text = request.queryDictionary["before"] {
                guard let t = TimeParsing.querySeconds(text, now: Double(server.store.clock())) else {
                    throw APIError("before must be \(TimeParsing.queryTimeForms)")
                }
                before = t
            }
            let items = try engine.history(of: name, type: type, limit: limit, before: before)
            return try Response.json(HistoryResponse(name: name, history: items.map {
                .init(type: $0.type, timestamp: TimeParsing.format($0.timestamp), summary: $0.summary, data: $0.data)
            }))
        }
        api.post("alarms/:name/state") { request, context in
            let name = try Self.name(context)
            let body = try await request.decodeJSON(StateRequest.self, limit: 16 * 1_024)
            guard let state = AlarmState(rawValue: body.state) else { throw APIError("state must be OK, ALARM or INSUFFICIENT_DATA") }
            try await engine.setState(name, state, reason: body.reason, reasonData: body.reasonData, now: server.store.clock())
            return try Response.json(describe(engine.status(name)!))
        }
    }

    static func name(_ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get("name"), !raw.isEmpty else { throw APIError("an alarm name is required") }
        return raw.removingPercentEncoding ?? raw
    }
}
