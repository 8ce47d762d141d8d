import Foundation
import PlumbMetrics

/// A value that cannot be stored, with the point it came from.
struct PointProblem: Error {
    let message: String
}

/// What an explicit-bucket histogram point contributes: bucket counts, count, sum, and the range when known.
struct HistogramPart {
    var counts: [UInt64]
    var count: UInt64
    var sum: Double
    var min: Double?
    var max: Double?
    /// The point's own minimum and maximum (over its whole stream), which bound a difference's values.
    var knownRange: (Double?, Double?) = (nil, nil)

    /// A distribution: each bucket's count at the middle of the bucket (the first and last buckets, which are
    /// open, at their finite bound), clamped to the known range; count and sum are the point's own.
    func value(bounds: [Double], at place: String) throws(PointProblem) -> Sample.Value {
        let low = min ?? knownRange.0
        let high = max ?? knownRange.1
        var aggregate = Aggregate()
        if counts.isEmpty {
            // No buckets: count and sum only (minimum and maximum, when not sent, are the mean).
            let mean = sum.isFinite ? sum / Double(count) : 0
            let (total, minimum, maximum) = (sum.isFinite ? sum : 0, low ?? mean, high ?? mean)
            guard DatumValidator.acceptsValue(total), DatumValidator.acceptsValue(minimum),
                DatumValidator.acceptsValue(maximum)
            else { throw PointProblem(message: "\(place): sum, min or max cannot be stored (finite, at most 2^360)") }
            return .statistics(count: Double(count), sum: total, min: minimum, max: maximum)
        }
        for (i, c) in counts.enumerated() where c > 0 {
            var lower = i == 0 ? (low ?? bounds.first ?? 0) : bounds[i - 1]
            var upper = i == bounds.count ? (high ?? bounds.last ?? 0) : bounds[i]
            if let low {
                lower = Swift.max(lower, low)
                upper = Swift.max(upper, low)
            }
            if let high {
                upper = Swift.min(upper, high)
                lower = Swift.min(lower, high)
            }
            aggregate.add((lower + upper) / 2, weight: Double(c))
        }
        if sum.isFinite { aggregate.sum = sum }
        if let min { aggregate.min = min }
        if let max { aggregate.max = max }
        guard DatumValidator.acceptsValue(aggregate.sum), DatumValidator.acceptsValue(aggregate.min),
            DatumValidator.acceptsValue(aggregate.max)
        else { throw PointProblem(message: "\(place): sum, min or max cannot be stored (finite, at most 2^360)") }
        return .distribution(aggregate)
    }
}

/// What an exponential histogram point contributes.
struct ExponentialPart {
    var buckets: ExponentialBuckets
    var sum: Double
    var min: Double?
    var max: Double?
    var knownRange: (Double?, Double?) = (nil, nil)

    /// A distribution: bucket `i` at scale `s` holds values in (2^(i·2^−s), 2^((i+1)·2^−s)]; its count is put at
    /// the middle, clamped to the known range; the zero bucket at 0.
    func value(at place: String) throws(PointProblem) -> Sample.Value {
        let low = min ?? knownRange.0
        let high = max ?? knownRange.1
        let step = exp2(-Double(buckets.scale))
        func clamp(_ v: Double) -> Double {
            var v = v
            if let low { v = Swift.max(v, low) }
            if let high { v = Swift.min(v, high) }
            return v
        }
        var aggregate = Aggregate()
        if buckets.zeroCount > 0 { aggregate.add(clamp(0), weight: Double(buckets.zeroCount)) }
        for (sign, table) in [(1.0, buckets.positive), (-1.0, buckets.negative)] {
            for (index, c) in table where c > 0 {
                let lower = exp2(Double(index) * step)
                let upper = exp2(Double(index + 1) * step)
                aggregate.add(clamp(sign * (lower + upper) / 2), weight: Double(c))
            }
        }
        if sum.isFinite { aggregate.sum = sum }
        if let min { aggregate.min = min }
        if let max { aggregate.max = max }
        guard DatumValidator.acceptsValue(aggregate.sum), DatumValidator.acceptsValue(aggregate.min),
            DatumValidator.acceptsValue(aggregate.max)
        else { throw PointProblem(message: "\(place): sum, min or max cannot be stored (finite, at most 2^360)") }
        return .distribution(aggregate)
    }
}
