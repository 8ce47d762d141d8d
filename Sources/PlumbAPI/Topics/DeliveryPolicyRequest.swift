/// `PUT /api/v1/topics/{topic}/delivery-policy` and `PUT /api/v1/subscriptions/{id}/delivery-policy`: the policy
/// that governs the next attempts (SNS's SetTopicAttributes / SetSubscriptionAttributes `DeliveryPolicy`); `null`
/// clears it (a topic's falls back to the defaults, a subscription's to its topic's).
public struct DeliveryPolicyRequest: Codable, Sendable, Equatable {
    public var deliveryPolicy: DeliveryPolicyBody?

    enum CodingKeys: String, CodingKey {
        case deliveryPolicy = "delivery_policy"
    }

    public init(deliveryPolicy: DeliveryPolicyBody?) {
        self.deliveryPolicy = deliveryPolicy
    }

    /// `delivery_policy` must be present (an object, or null to clear): an empty body is a mistake, not a clear.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.deliveryPolicy) else {
            throw DecodingError.keyNotFound(
                CodingKeys.deliveryPolicy,
                .init(codingPath: [], debugDescription: "delivery_policy is required (an object, or null to clear it)"))
        }
        deliveryPolicy = try container.decodeIfPresent(DeliveryPolicyBody.self, forKey: .deliveryPolicy)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(deliveryPolicy, forKey: .deliveryPolicy)
    }
}
