import Foundation
import PlumbAPI
import PlumbNotify

/// SNS's delivery policy JSON, to and from Plumb's `DeliveryPolicy`.
extension SNSService {
    /// SNS's delivery policy JSON (`{"healthyRetryPolicy": {"numRetries", "minDelayTarget", "maxDelayTarget",
    /// "backoffFunction"}}`) as Plumb's policy; the throttle and the no-delay/min/max retry splits are not kept.
    static func deliveryPolicy(_ text: String) throws -> DeliveryPolicy {
        guard case .object(let retry)? = try policyDocument(text)["healthyRetryPolicy"] else {
            throw invalid("DeliveryPolicy: healthyRetryPolicy is required")
        }
        return try retryPolicy(retry, place: "healthyRetryPolicy")
    }

    /// A topic's delivery policy, SNS's form for its subscribers by protocol: `http.defaultHealthyRetryPolicy` (the
    /// one Plumb keeps: it governs the topic's http, https and email subscriptions that have none of their own).
    static func topicDeliveryPolicy(_ text: String) throws -> DeliveryPolicy {
        guard case .object(let http)? = try policyDocument(text)["http"],
            case .object(let retry)? = http["defaultHealthyRetryPolicy"]
        else { throw invalid("DeliveryPolicy: http.defaultHealthyRetryPolicy is required") }
        return try retryPolicy(retry, place: "http.defaultHealthyRetryPolicy")
    }

    static func policyDocument(_ text: String) throws -> [String: JSONValue] {
        guard text.utf8.count <= 4_096, case .object(let document)? = try? JSONValue.parse(Array(text.utf8)) else {
            throw invalid("DeliveryPolicy: not a JSON object")
        }
        return document
    }

    static func retryPolicy(_ retry: [String: JSONValue], place: String) throws -> DeliveryPolicy {
        var policy = DeliveryPolicy()
        func whole(_ key: String) throws -> Int? {
            guard let value = retry[key] else { return nil }
            guard case .number(let number) = value, let integer = Int(exactly: number) else {
                throw invalid("DeliveryPolicy: \(place).\(key) must be a whole number")
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
        text(.object(["healthyRetryPolicy": retryObject(policy)]))
    }

    static func topicDeliveryPolicyJSON(_ policy: DeliveryPolicy) -> String {
        text(
            .object([
                "http": .object([
                    "defaultHealthyRetryPolicy": retryObject(policy), "disableSubscriptionOverrides": .bool(false),
                ])
            ]))
    }

    static func retryObject(_ policy: DeliveryPolicy) -> JSONValue {
        .object([
            "numRetries": .number(Double(policy.numRetries)), "minDelayTarget": .number(policy.minDelay),
            "maxDelayTarget": .number(policy.maxDelay), "backoffFunction": .string(policy.backoff.rawValue),
        ])
    }

    static func text(_ document: JSONValue) -> String {
        (try? JSONEncoder().encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
