/// How a subscription is delivered to.
public enum SubscriptionProtocol: String, Sendable, Codable, CaseIterable {
    case email
    case webhook
    /// A hosted function (`plugin.function`), invoked asynchronously with the notification (SNS → Lambda).
    case function
    /// An Alertmanager (`http://HOST:9093`): alarms are posted to its `/api/v2/alerts` as a client, the way
    /// Prometheus sends them — firing alerts re-sent while the alarm stays in ALARM, a resolved one when it leaves.
    case alertmanager
}
