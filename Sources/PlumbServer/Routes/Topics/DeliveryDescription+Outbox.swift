import PlumbAPI
import PlumbNotify

extension DeliveryDescription {
    /// A delivery as the API shows it: the next attempt only while pending, times in RFC 3339.
    init(_ d: Outbox.Delivery) {
        self.init(
            id: d.id, messageId: d.messageID, topic: d.topic, subscriptionId: d.subscriptionID,
            protocol: d.protocol.rawValue,
            endpoint: d.endpoint, status: d.status, attempts: d.attempts,
            nextAttemptAt: d.status == "pending" ? TimeParsing.format(Int64(d.nextAttemptAt.rounded(.up))) : nil,
            lastError: d.lastError, createdAt: TimeParsing.format(d.createdAt),
            deliveredAt: d.deliveredAt.map { TimeParsing.format(Int64($0)) })
    }
}
