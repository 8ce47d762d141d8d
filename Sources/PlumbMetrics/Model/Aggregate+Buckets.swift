/// One bucket of a distribution as `Sketch` lays it out (zero, or a positive or negative magnitude's log-γ index):
/// what a backend that keeps only numbers stores of an aggregate's percentiles, one count per bucket.
public enum DistributionBucket: Hashable, Sendable {
    case zero
    case positive(Int32)
    case negative(Int32)

    /// `0`, `p<index>` or `n<index>`: a label value.
    public var label: String {
        switch self {
        case .zero: "0"
        case .positive(let index): "p\(index)"
        case .negative(let index): "n\(index)"
        }
    }

    /// The bucket a label names; nil for anything `label` never makes.
    public init?(label: some StringProtocol) {
        if label == "0" {
            self = .zero
            return
        }
        guard let sign = label.first, let index = Int32(label.dropFirst()), label.count > 1 else { return nil }
        switch sign {
        case "p": self = .positive(index)
        case "n": self = .negative(index)
        default: return nil
        }
    }
}

extension Aggregate {
    /// This aggregate's distribution as sketch buckets and their weights; nil when it has none (a statistic set).
    /// Exact values fall into the bucket that holds them, so percentiles read back are within the sketch's bound.
    public func distributionBuckets() -> [DistributionBucket: Double]? {
        guard hasDistribution, count > 0 else { return nil }
        var sketch = Sketch()
        if let raw {
            for value in raw { sketch.add(value) }
        } else if let own = self.sketch {
            sketch = own
        } else {
            for (value, weight) in values { sketch.add(value, weight: weight) }
        }
        var buckets: [DistributionBucket: Double] = [:]
        if sketch.zero > 0 { buckets[.zero] = sketch.zero }
        for (index, weight) in sketch.positive { buckets[.positive(index)] = weight }
        for (index, weight) in sketch.negative { buckets[.negative(index)] = weight }
        return buckets
    }

    /// An aggregate with exact count, sum and extremes and, when `buckets` is given, the distribution they describe.
    public static func summary(
        count: Double, sum: Double, min: Double, max: Double, buckets: [DistributionBucket: Double]?
    ) -> Aggregate {
        var aggregate = Aggregate()
        aggregate.count = count
        aggregate.sum = sum
        aggregate.min = min
        aggregate.max = max
        guard let buckets, !buckets.isEmpty else {
            aggregate.hasDistribution = false
            return aggregate
        }
        var sketch = Sketch()
        for (bucket, weight) in buckets {
            switch bucket {
            case .zero: sketch.zero += weight
            case .positive(let index): sketch.positive[index, default: 0] += weight
            case .negative(let index): sketch.negative[index, default: 0] += weight
            }
        }
        aggregate.sketch = sketch
        return aggregate
    }

    /// Every distinct value and its weight when the aggregate holds them exactly (raw values, or at most
    /// `rawLimit` distinct ones); nil once it is a sketch or has no distribution.
    public var exactValues: [(value: Double, weight: Double)]? {
        guard hasDistribution else { return nil }
        if let raw { return raw.map { ($0, 1) } }
        guard sketch == nil else { return nil }
        return values.map { ($0.key, $0.value) }
    }
}
