import Foundation
import PlumbMetrics
import PlumbTesting

/// An independent, naive computation of period statistics from the raw samples, to check the store against.
struct ReferenceStatistics {
    struct Point {
        var values: [Double] = []
        var count: Double { Double(values.count) }
        var sum: Double { values.reduce(0, +) }
        var min: Double { values.min()! }
        var max: Double { values.max()! }

        /// Nearest rank: the smallest value with at least p % of the samples at or below it.
        func percentile(_ p: Double) -> Double {
            let sorted = values.sorted()
            let rank = Swift.max(1, Int(((p * Double(sorted.count)) / 100 - 1e-9).rounded(.up)))
            return sorted[rank - 1]
        }
    }

    static func periods(
        _ samples: [(ts: Int64, value: Double)], period: Int64, start: Int64, end: Int64
    ) -> [Int64: Point] {
        var out: [Int64: Point] = [:]
        for s in samples where s.ts >= start && s.ts < end {
            let bucket = (s.ts >= 0 ? s.ts / period : -((-s.ts + period - 1) / period)) * period
            out[bucket, default: Point()].values.append(s.value)
        }
        return out
    }
}

extension ReferenceStatistics {
    /// `count` samples at random times in [start, start + span): half small integers (repeats, exact percentiles),
    /// half what `wide` draws (log-normal values that the sketch bounds, or decimals).
    static func randomSamples(
        count: Int, from start: Int64, span: Int64, seed: UInt64,
        wide: (inout SeededGenerator) -> Double = { rng in
            exp(Double.random(in: -3...9, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1)
        }
    ) -> [(ts: Int64, value: Double)] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let ts = start + Int64.random(in: 0..<span, using: &rng)
            let value = Bool.random(using: &rng) ? Double(Int.random(in: -5...20, using: &rng)) : wide(&rng)
            return (ts, value)
        }
    }
}
