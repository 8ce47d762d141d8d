import Foundation
import Hummingbird
import PlumbAPI
import PlumbAlarms
import PlumbKit
import PlumbMetrics
import PlumbOpen

/// Plumb's alarms in Prometheus' shapes: `GET /api/v1/rules` (one group of alerting rules) and `GET /api/v1/alerts`
/// (the alarms in ALARM).
extension PromQLRoutes {
    struct RuleGroups: Encodable {
        var groups: [RuleGroup]
    }

    struct RuleGroup: Encodable {
        var name: String
        var file: String
        var rules: [Rule]
        var interval: Double
        var limit = 0
        var evaluationTime = 0.0
        var lastEvaluation: String
    }

    struct Rule: Encodable {
        var state: String
        var name: String
        var query: String
        var duration: Double
        var labels: [String: String]
        var annotations: [String: String]
        var alerts: [Alert]
        var health: String
        var lastError = ""
        var evaluationTime = 0.0
        var lastEvaluation: String
        var type = "alerting"
    }

    struct Alert: Encodable {
        var labels: [String: String]
        var annotations: [String: String]
        var state: String
        var activeAt: String
        var value: String
    }

    struct Alerts: Encodable {
        var alerts: [Alert]
    }

    /// An alarm's condition in words, with its metric named as PromQL sees it.
    static func condition(_ d: AlarmDescription) -> String {
        if let rule = d.rule { return rule }
        guard let namespace = d.namespace, let metric = d.metric else {
            return d.metrics?.joined(separator: "; ") ?? ""
        }
        let key = SeriesKey(
            namespace: namespace, name: metric,
            dimensions: (d.dimensions ?? [:]).map { Dimension(name: $0.key, value: $0.value) })
        let labels = PromQLNames.labels(key).withoutName
        var text = PromQLNames.metricName(key) + (labels.count == 0 ? "" : labels.description.dropFirst(0).description)
        if let statistic = d.statistic, let period = d.period { text += " \(statistic) over \(period)s" }
        if let comparison = d.comparison, let threshold = d.threshold {
            text += " \(comparison) \(PromQLJSON.format(threshold))"
        }
        if let n = d.evaluationPeriods { text += " (\(d.datapointsToAlarm ?? n) of \(n) periods)" }
        return text
    }

    func describedAlarms() -> [AlarmDescription] {
        alarms.list().map { AlarmDescription($0) }.sorted { $0.name < $1.name }
    }

    static func alert(_ d: AlarmDescription) -> Alert {
        var labels = ["alertname": d.name]
        if let severity = d.severity { labels["severity"] = severity }
        var annotations = ["summary": d.stateReason]
        if let description = d.description { annotations["description"] = description }
        return Alert(
            labels: labels, annotations: annotations, state: "firing", activeAt: d.stateUpdatedAt, value: "1")
    }

    @Sendable func rules(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () throws(PromQLError) -> [UInt8] in
            let type = FormQuery.parse(request.uri.query)["type"]
            guard type == nil || type == "alert" || type == "record" else {
                throw PromQLError(.badData, "invalid parameter \"type\": must be alert or record")
            }
            let now = RFC3339.format(Double(clock()))
            let rules: [Rule] =
                type == "record"
                ? []
                : describedAlarms().map { d -> Rule in
                    var labels: [String: String] = [:]
                    if let severity = d.severity { labels["severity"] = severity }
                    return Rule(
                        state: d.state == "ALARM" ? "firing" : "inactive", name: d.name, query: Self.condition(d),
                        duration: Double((d.period ?? 0) * Int64(d.evaluationPeriods ?? 0)), labels: labels,
                        annotations: d.description.map { ["description": $0] } ?? [:],
                        alerts: d.state == "ALARM" ? [Self.alert(d)] : [],
                        health: d.state == "INSUFFICIENT_DATA" ? "unknown" : "ok",
                        lastEvaluation: d.lastEvaluatedAt ?? now)
                }
            let group = RuleGroup(name: "plumb-alarms", file: "plumb", rules: rules, interval: 60, lastEvaluation: now)
            return try Self.encode(Envelope(data: RuleGroups(groups: rules.isEmpty ? [] : [group])))
        }
    }

    @Sendable func alerts(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () throws(PromQLError) -> [UInt8] in
            let firing = describedAlarms().filter { $0.state == "ALARM" }.map(Self.alert)
            return try Self.encode(Envelope(data: Alerts(alerts: firing)))
        }
    }
}
