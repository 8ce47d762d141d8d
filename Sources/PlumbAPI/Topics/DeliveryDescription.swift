/// One delivery of a message to one subscription, from the outbox: `pending` (with its next attempt), `delivered`,
/// `failed` (the dead letters, retried with `POST /api/v1/deliveries/{id}/retry`) or `superseded`.
public struct DeliveryDescription: Codable, Sendable, Equatable {
    public var id: Int64
    public var messageId: String
    public var topic: String
    public var subscriptionId: String
    public var `protocol`: String
    public var endpoint: String
    public var status: String
    public var attempts: Int
    /// RFC 3339; only while pending.
    public var nextAttemptAt: String?
    public var lastError: String?
    public var createdAt: String
    public var deliveredAt: String?

    public init(
        id: Int64, messageId: String, topic: String, subscriptionId: String, protocol: String, endpoint: String,
        status: String,
        attempts: Int, nextAttemptAt: String?, lastError: String?, createdAt: String, deliveredAt: String?
    ) {
        self.id = id
        self.messageId = messageId
        self.topic = topic
        self.subscriptionId = subscriptionId
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
    }
}
