/// `POST /api/v1/topics/{topic}/subscriptions`: an email address or a webhook URL (both confirm by a link first), a
/// function (`plugin.function`, which the caller must be allowed to invoke), or an Alertmanager's base URL.
public struct SubscriptionRequest: Codable, Sendable, Equatable {
    /// `email`, `webhook`, `function` or `alertmanager`.
    public var `protocol`: String
    public var endpoint: String
    /// A webhook's HMAC secret, at least 16 characters; never given back.
    public var secret: String?
    /// A webhook's body: `plumb` (the default), `alertmanager-webhook` or `sns` (SNS's signed HTTP message).
    public var format: String?
    public var deliveryPolicy: DeliveryPolicyBody?

    enum CodingKeys: String, CodingKey {
        case `protocol`, endpoint, secret, format
        case deliveryPolicy = "delivery_policy"
    }

    public init(
        protocol: String, endpoint: String, secret: String? = nil, format: String? = nil,
        deliveryPolicy: DeliveryPolicyBody? = nil
    ) {
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.secret = secret
        self.format = format
        self.deliveryPolicy = deliveryPolicy
    }
}
