/// `POST /api/v1/topics`: creates a topic (idempotent: an existing topic is answered 200, a new one 201).
public struct TopicRequest: Codable, Sendable, Equatable {
    /// Letters, digits, `-` and `_`.
    public var name: String
    public var deliveryPolicy: DeliveryPolicyBody?

    enum CodingKeys: String, CodingKey {
        case name
        case deliveryPolicy = "delivery_policy"
    }

    public init(name: String, deliveryPolicy: DeliveryPolicyBody? = nil) {
        self.name = name
        self.deliveryPolicy = deliveryPolicy
    }
}
