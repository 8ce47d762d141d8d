import Crypto
import Foundation
import PlumbAPI

/// The bodies and headers a webhook receives.
public enum WebhookPayload {
    /// Plumb's own JSON (CONTRACT.md): `{"type", "messageId", "topic", "subject", "message", "timestamp", "attributes"}`;
    /// a subscription confirmation also carries `token` and `subscribeURL`.
    public static func plumb(_ message: Outbox.Message) -> Data {
        var object: [String: Any] = [
            "type": message.type, "messageId": message.id, "topic": message.topic, "message": message.message,
            "timestamp": isoTime(message.createdAt),
        ]
        if let subject = message.subject { object["subject"] = subject }
        if message.type == "SubscriptionConfirmation" {
            object["token"] = message.attributes["token"] ?? ""
            object["subscribeURL"] = message.attributes["subscribeURL"] ?? ""
        } else {
            object["attributes"] = message.attributes
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// The body Alertmanager sends to its webhook receivers (version 4), for format `alertmanager-webhook`. An alarm
    /// state change becomes one alert, `firing` in ALARM and `resolved` otherwise, labelled as `PostableAlert` labels
    /// it plus `source` and `alarm_type`; any other message becomes a firing alert named after the topic.
    public static func alertmanagerWebhook(_ message: Outbox.Message, externalURL: String) -> Data {
        var labels: [String: String]
        var annotations: [String: String]
        var status = "firing"
        var startsAt = isoTime(message.createdAt)
        var endsAt = "0001-01-01T00:00:00Z"
        var generatorURL = externalURL
        if message.attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue,
            let alarm = try? JSONDecoder().decode(AlarmMessage.self, from: Data(message.message.utf8))
        {
            labels = PostableAlert.labels(of: alarm)
            labels["source"] = "plumb"
            labels["alarm_type"] = alarm.alarmType
            annotations = ["summary": "\(alarm.alarmName) is \(alarm.newState)", "description": alarm.reason]
            if let d = alarm.alarmDescription { annotations["alarm_description"] = d }
            if alarm.newState != "ALARM" {
                status = "resolved"
                endsAt = alarm.time
            }
            startsAt = alarm.time
            if let url = alarm.url { generatorURL = url }
        } else {
            labels = ["alertname": message.topic, "source": "plumb"]
            annotations = ["summary": message.subject ?? message.topic, "description": message.message]
        }
        let fingerprint = SHA256.hash(
            data: Data(
                labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{1F}").utf8)
        )
        .prefix(8).map { String(format: "%02x", $0) }.joined()
        let alert: [String: Any] = [
            "status": status, "labels": labels, "annotations": annotations, "startsAt": startsAt, "endsAt": endsAt,
            "generatorURL": generatorURL, "fingerprint": fingerprint,
        ]
        let object: [String: Any] = [
            "version": "4", "groupKey": "{}:{alertname=\"\(labels["alertname"] ?? "")\"}", "truncatedAlerts": 0,
            "status": status, "receiver": message.topic, "groupLabels": ["alertname": labels["alertname"] ?? ""],
            "commonLabels": labels, "commonAnnotations": annotations, "externalURL": externalURL, "alerts": [alert],
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// `sha256=<hex HMAC-SHA256 of the body>`.
    public static func signature(body: Data, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func sanitizeLabel(_ name: String) -> String {
        let mapped = name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") ? $0 : "_" }
        let text = String(mapped)
        return text.first?.isNumber == true ? "_" + text : text
    }

    static func isoTime(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}
