import PlumbMetrics

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
