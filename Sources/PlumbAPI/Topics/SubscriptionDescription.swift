/// A subscription of a topic: `status` is `PendingConfirmation` until its link is followed, then `Confirmed`.
public struct SubscriptionDescription: Codable, Sendable, Equatable {
    public var id: String
    public var topic: String
    public var `protocol`: String
    public var endpoint: String
    public var format: String
    public var status: String
    /// `api`, or the alert file that declares it.
    public var source: String
    /// Whether webhook bodies are signed; the secret itself is never returned.
    public var signed: Bool
    public var deliveryPolicy: DeliveryPolicyBody?
    /// RFC 3339, UTC.
    public var createdAt: String

    public init(
        id: String, topic: String, protocol: String, endpoint: String, format: String, status: String, source: String,
        signed: Bool, deliveryPolicy: DeliveryPolicyBody?, createdAt: String
    ) {
        self.id = id
        self.topic = topic
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.format = format
        self.status = status
        self.source = source
        self.signed = signed
        self.deliveryPolicy = deliveryPolicy
        self.createdAt = createdAt
    }
}
