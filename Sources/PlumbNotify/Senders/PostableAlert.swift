import Foundation
import PlumbAPI

/// One alert as Alertmanager's API v2 takes it (`postableAlert` in its OpenAPI, posted in a JSON array to
/// `/api/v2/alerts`). The labels identify the alert — Alertmanager de-duplicates, groups, routes and silences on
/// them — and the annotations describe it, the latest ones winning.
public struct PostableAlert: Sendable, Equatable, Codable {
    public var labels: [String: String]
    public var annotations: [String: String]
    /// RFC 3339.
    public var startsAt: String
    /// RFC 3339: in the future while firing (Alertmanager resolves the alert by itself if it is not sent again by
    /// then), the end of the alarm once resolved.
    public var endsAt: String
    public var generatorURL: String?

    public init(
        labels: [String: String], annotations: [String: String], startsAt: String, endsAt: String, generatorURL: String?
    ) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }

    /// The alert of an alarm. Labels: `alertname` (the alarm's name), `namespace`, `metric` and each dimension of
    /// its metric (a dimension name made a valid label name, never overriding those), and `severity` when the alarm
    /// has one. Annotations: `summary` (the reason for the state), `description` (the alarm's description).
    /// `generatorURL` is the alarm in Plumb's API.
    public static func alarm(
        _ alarm: AlarmMessage, startsAt: Int64, endsAt: Int64, fallbackURL: String
    ) -> PostableAlert {
        var annotations = ["summary": alarm.reason]
        annotations["description"] = alarm.alarmDescription ?? "Plumb \(alarm.alarmType) alarm \(alarm.alarmName)"
        return PostableAlert(
            labels: labels(of: alarm), annotations: annotations, startsAt: WebhookPayload.isoTime(startsAt),
            endsAt: WebhookPayload.isoTime(endsAt), generatorURL: alarm.url ?? fallbackURL)
    }

    /// Any other notification published to the topic, as one alert named after the topic: it fires once and ends
    /// at `endsAt`, as nothing will resolve it.
    public static func notification(_ message: Outbox.Message, endsAt: Int64, generatorURL: String) -> PostableAlert {
        var labels = ["alertname": message.topic]
        if let event = message.attributes["event"] { labels["event"] = event }
        return PostableAlert(
            labels: labels,
            annotations: [
                "summary": message.subject ?? String(message.message.prefix(200)), "description": message.message,
            ],
            startsAt: WebhookPayload.isoTime(message.createdAt), endsAt: WebhookPayload.isoTime(endsAt),
            generatorURL: generatorURL)
    }

    /// The labels of an alarm's alert (shared with the `alertmanager-webhook` body).
    static func labels(of alarm: AlarmMessage) -> [String: String] {
        var labels: [String: String] = [:]
        if let metric = alarm.metric {
            for (name, value) in metric.dimensions { labels[WebhookPayload.sanitizeLabel(name)] = value }
            labels["namespace"] = metric.namespace
            labels["metric"] = metric.name
        }
        labels["alertname"] = alarm.alarmName
        if let severity = alarm.severity { labels["severity"] = severity }
        return labels.filter { !$0.value.isEmpty }
    }

    /// The body of one POST: a JSON array of alerts.
    public static func body(_ alerts: [PostableAlert]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(alerts)) ?? Data("[]".utf8)
    }
}
