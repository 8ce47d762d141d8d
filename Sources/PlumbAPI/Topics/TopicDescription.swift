/// A topic with its subscription counts. `source` says where it was defined: `api`, or the alert file that declares it.
public struct TopicDescription: Codable, Sendable, Equatable {
    public var name: String
    public var source: String
    public var deliveryPolicy: DeliveryPolicyBody?
    public var subscriptions: Int
    public var confirmedSubscriptions: Int
    /// RFC 3339, UTC.
    public var createdAt: String

    public init(
        name: String, source: String, deliveryPolicy: DeliveryPolicyBody?, subscriptions: Int,
        confirmedSubscriptions: Int,
        createdAt: String
    ) {
        self.name = name
        self.source = source
        self.deliveryPolicy = deliveryPolicy
        self.subscriptions = subscriptions
        self.confirmedSubscriptions = confirmedSubscriptions
        self.createdAt = createdAt
    }
}
