import Foundation

/// SNS's HTTP delivery retry policy: how many retries and how far apart.
///
/// Retry k of n waits `minDelay + (maxDelay − minDelay) · shape((k−1)/(n−1))` seconds, with the shape set by
/// `backoff`: linear f, arithmetic f² (slow start), geometric √f (fast start), exponential
/// `minDelay · (maxDelay/minDelay)^f`. Each delay gets ±10 % jitter. SNS's default: 3 retries 20 s apart.
public struct DeliveryPolicy: Sendable, Equatable, Codable {
    public enum Backoff: String, Sendable, Codable, CaseIterable {
        case linear, arithmetic, geometric, exponential
    }

    public var numRetries: Int
    /// Seconds.
    public var minDelay: Double
    /// Seconds.
    public var maxDelay: Double
    public var backoff: Backoff

    public init(numRetries: Int = 3, minDelay: Double = 20, maxDelay: Double = 20, backoff: Backoff = .linear) {
        self.numRetries = numRetries
        self.minDelay = minDelay
        self.maxDelay = maxDelay
        self.backoff = backoff
    }

    /// SNS's default HTTP policy.
    public static let webhookDefault = DeliveryPolicy()

    /// Email: SNS's fixed policy for customer endpoints is 50 attempts over about 6 hours; this keeps its
    /// total span with exponential backoff from 10 s to 600 s.
    public static let emailDefault = DeliveryPolicy(numRetries: 49, minDelay: 10, maxDelay: 600, backoff: .exponential)

    /// Seconds before retry `retry` (1-based), without jitter.
    public func delay(beforeRetry retry: Int) -> Double {
        let f = numRetries > 1 ? Double(min(max(retry, 1), numRetries) - 1) / Double(numRetries - 1) : 0
        let span = maxDelay - minDelay
        switch backoff {
        case .linear: return minDelay + span * f
        case .arithmetic: return minDelay + span * f * f
        case .geometric: return minDelay + span * f.squareRoot()
        case .exponential:
            guard minDelay > 0 else { return maxDelay * f }
            return minDelay * pow(maxDelay / minDelay, f)
        }
    }

    /// The delay with ±10 % jitter, never below 0.5 s.
    public func jitteredDelay(beforeRetry retry: Int) -> Double {
        let base = delay(beforeRetry: retry)
        return Swift.max(0.5, base * Double.random(in: 0.9...1.1))
    }

    /// SNS's bounds: 0–100 retries, delays within 0–3,600 s, min ≤ max, the whole policy within 3,600 s
    /// (6 hours for email's longer default).
    public func validate() -> String? {
        guard (0...100).contains(numRetries) else { return "num_retries must be between 0 and 100" }
        guard minDelay >= 0, maxDelay >= 0, minDelay <= 3_600, maxDelay <= 3_600 else {
            return "min_delay and max_delay must be between 0 and 3600 seconds"
        }
        guard minDelay <= maxDelay else { return "min_delay must not exceed max_delay" }
        let total = (0..<numRetries).reduce(0.0) { $0 + delay(beforeRetry: $1 + 1) }
        guard total <= 3_600 || self == .emailDefault else {
            return "the retries span \(Int(total)) s; a policy must finish within 3600 s"
        }
        return nil
    }
}
