import PlumbAPI
import PlumbNotify

/// The wire form of a delivery policy, to and from PlumbNotify's `DeliveryPolicy`.
extension DeliveryPolicyBody {
    init(_ policy: DeliveryPolicy) {
        self.init(
            numRetries: policy.numRetries, minDelay: policy.minDelay, maxDelay: policy.maxDelay,
            backoff: policy.backoff.rawValue)
    }

    /// The defaults with what is given; a `min_delay` alone raises `max_delay` to it. Refusals name the field.
    func policy() throws -> DeliveryPolicy {
        var p = DeliveryPolicy()
        if let n = numRetries { p.numRetries = n }
        if let v = minDelay {
            p.minDelay = v
            p.maxDelay = max(p.maxDelay, v)
        }
        if let v = maxDelay { p.maxDelay = v }
        if let b = backoff {
            guard let value = DeliveryPolicy.Backoff(rawValue: b) else {
                throw APIError("delivery_policy.backoff must be linear, arithmetic, geometric or exponential")
            }
            p.backoff = value
        }
        if let problem = p.validate() { throw APIError("delivery_policy: \(problem)") }
        return p
    }
}
