import Foundation
import PlumbAPI
import PlumbNotify

/// SNS's delivery policy JSON, to and from Plumb's `DeliveryPolicy`.
extension SNSService {
    /// SNS's delivery policy JSON (`{"healthyRetryPolicy": {"numRetries", "minDelayTarget", "maxDelayTarget",
    /// "backoffFunction"}}`) as Plumb's policy; the throttle and the no-delay/min/max retry splits are not kept.
    static func deliveryPolicy(_ text: String) throws -> DeliveryPolicy {
        guard text.utf8.count <= 4_096, case .object(let document)? = try? JSONValue.parse(Array(text.utf8)) else {
            throw invalid("DeliveryPolicy: not a JSON object")
        }
        guard case .object(let retry)? = document["healthyRetryPolicy"] else {
            throw invalid("DeliveryPolicy: healthyRetryPolicy is required")
        }
        var policy = DeliveryPolicy()
        func whole(_ key: String) throws -> Int? {
            guard let value = retry[key] else { return nil }
            guard case .number(let number) = value, let integer = Int(exactly: number) else {
                throw invalid("DeliveryPolicy: healthyRetryPolicy.\(key) must be a whole number")
            }
            return integer
        }
        if let retries = try whole("numRetries") { policy.numRetries = retries }
        if let minimum = try whole("minDelayTarget") {
            policy.minDelay = Double(minimum)
            policy.maxDelay = max(policy.maxDelay, Double(minimum))
        }
        if let maximum = try whole("maxDelayTarget") { policy.maxDelay = Double(maximum) }
        if let backoff = retry["backoffFunction"] {
            guard let name = backoff.string, let value = DeliveryPolicy.Backoff(rawValue: name) else {
                throw invalid("DeliveryPolicy: backoffFunction must be linear, arithmetic, geometric or exponential")
            }
            policy.backoff = value
        }
        if let problem = policy.validate() { throw invalid("DeliveryPolicy: \(problem)") }
        return policy
    }

    static func deliveryPolicyJSON(_ policy: DeliveryPolicy) -> String {
        let document: JSONValue = .object([
            "healthyRetryPolicy": .object([
                "numRetries": .number(Double(policy.numRetries)), "minDelayTarget": .number(policy.minDelay),
                "maxDelayTarget": .number(policy.maxDelay), "backoffFunction": .string(policy.backoff.rawValue),
            ])
        ])
        return (try? JSONEncoder().encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
