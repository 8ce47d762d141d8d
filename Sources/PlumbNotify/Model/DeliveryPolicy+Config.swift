import PlumbAPI

extension DeliveryPolicy {
    static let configFields: Set<String> = ["num_retries", "min_delay", "max_delay", "backoff"]

    /// A `delivery_policy` mapping of a topic or subscription; nil when it does not check (errors in the sink).
    static func parse(_ p: ConfigFields) -> DeliveryPolicy? {
        p.rejectUnknown(configFields)
        let before = p.errorCount
        var policy = DeliveryPolicy()
        if let n = p.int("num_retries") { policy.numRetries = n }
        if let v = p.double("min_delay") { policy.minDelay = v }
        if let v = p.double("max_delay") {
            policy.maxDelay = v
        } else if p.node("min_delay") != nil {
            policy.maxDelay = max(policy.minDelay, policy.maxDelay)
        }
        if let b = p.enum("backoff", DeliveryPolicy.Backoff.self) { policy.backoff = b }
        guard p.errorCount == before else { return nil }
        if let problem = policy.validate() {
            p.error(nil, problem)
            return nil
        }
        return policy
    }
}
