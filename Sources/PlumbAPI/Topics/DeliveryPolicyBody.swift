/// How a topic or a subscription retries a failed delivery, as SNS's delivery policy: `num_retries` attempts after
/// the first, spaced from `min_delay` to `max_delay` seconds by the `backoff` function (`linear`, `arithmetic`,
/// `geometric` or `exponential`). Every field may be left out (the defaults apply).
public struct DeliveryPolicyBody: Codable, Sendable, Equatable {
    public var numRetries: Int?
    public var minDelay: Double?
    public var maxDelay: Double?
    public var backoff: String?

    enum CodingKeys: String, CodingKey {
        case numRetries = "num_retries"
        case minDelay = "min_delay"
        case maxDelay = "max_delay"
        case backoff
    }

    public init(numRetries: Int? = nil, minDelay: Double? = nil, maxDelay: Double? = nil, backoff: String? = nil) {
        self.numRetries = numRetries
        self.minDelay = minDelay
        self.maxDelay = maxDelay
        self.backoff = backoff
    }
}
