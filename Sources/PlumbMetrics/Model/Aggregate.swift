import Foundation
import PlumbStore

/// The mergeable summary of every sample in one bucket (a second, a minute, an hour …) of one series.
///
/// Count, sum, minimum and maximum are exact. Percentiles come from `values` while the bucket holds at most
/// `rawLimit` distinct values (exact, nearest-rank), and from a `Sketch` (relative error ≤ 1 %) beyond.
/// Statistic sets (`{sampleCount, sum, min, max}`) carry no distribution; a bucket that received one reports
/// no percentiles, as CloudWatch does for statistic sets.
///
/// A period read from raw samples (`raw()`, `addRaw`) keeps every value, however many: its percentiles are exact.
/// Merged with a summarised bucket (a rolled-up tier, values with counts), it becomes a summary itself.
public struct Aggregate: Sendable, Equatable {
    public static let rawLimit = 64

    public var count: Double = 0
    public var sum: Double = 0
    public var min: Double = .infinity
    public var max: Double = -.infinity
    /// Distinct values and their weights while the bucket is small.
    var values: [Double: Double] = [:]
    var sketch: Sketch?
    /// False once a statistic set was merged in: percentiles are then unknown.
    public var hasDistribution = true
    /// Every value, unweighted, while the aggregate holds only raw samples (nil otherwise).
    var raw: [Double]?

    public init() {}

    /// An empty aggregate that keeps every raw value added with `addRaw`.
    public static func raw(capacity: Int = 0) -> Aggregate {
        var aggregate = Aggregate()
        aggregate.raw = []
        aggregate.raw!.reserveCapacity(capacity)
        return aggregate
    }

    /// An aggregate of raw samples, every one kept (exact percentiles).
    public static func raw(_ values: [Double]) -> Aggregate {
        var aggregate = Aggregate()
        for value in values {
            aggregate.sum += value
            if value < aggregate.min { aggregate.min = value }
            if value > aggregate.max { aggregate.max = value }
        }
        aggregate.count = Double(values.count)
        aggregate.raw = values
        return aggregate
    }

    /// Adds one raw sample (weight 1); exact percentiles as long as the aggregate stays raw.
    public mutating func addRaw(_ value: Double) {
        guard raw != nil else { return add(value) }
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
        raw!.append(value)
    }

    /// Turns kept raw values into the summarised form (distinct values, then the sketch).
    mutating func summarise() {
        guard let kept = raw else { return }
        raw = nil
        for value in kept {
            if sketch != nil {
                sketch!.add(value, weight: 1)
            } else {
                values[value, default: 0] += 1
                if values.count > Self.rawLimit { promote() }
            }
        }
    }

    public init(value: Double, weight: Double = 1) {
        add(value, weight: weight)
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func add(_ value: Double, weight: Double = 1) {
        if raw != nil { summarise() }
        count += weight
        sum += value * weight
        if value < min { min = value }
        if value > max { max = value }
        if sketch != nil {
            sketch!.add(value, weight: weight)
        } else {
            values[value, default: 0] += weight
            if values.count > Self.rawLimit { promote() }
        }
    }

    /// Merges a statistic set: exact for count/sum/min/max, no distribution.
    public mutating func addStatistics(count sampleCount: Double, sum: Double, min: Double, max: Double) {
        summarise()
        count += sampleCount
        self.sum += sum
        if min < self.min { self.min = min }
        if max > self.max { self.max = max }
        hasDistribution = false
    }

    public mutating func merge(_ other: Aggregate) {
        guard !other.isEmpty else { return }
        if isEmpty && raw == nil && hasDistribution {
            self = other
            return
        }
        if raw != nil, let theirs = other.raw {
            count += other.count
            sum += other.sum
            if other.min < min { min = other.min }
            if other.max > max { max = other.max }
            raw!.append(contentsOf: theirs)
            return
        }
        summarise()
        var other = other
        other.summarise()
        count += other.count
        sum += other.sum
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        hasDistribution = hasDistribution && other.hasDistribution
        if let otherSketch = other.sketch {
            if sketch == nil { promote() }
            sketch!.merge(otherSketch)
        } else if sketch != nil {
            for (v, w) in other.values { sketch!.add(v, weight: w) }
        } else {
            for (v, w) in other.values { values[v, default: 0] += w }
            if values.count > Self.rawLimit { promote() }
        }
    }

    private mutating func promote() {
        var s = Sketch()
        for (v, w) in values { s.add(v, weight: w) }
        values = [:]
        sketch = s
    }

    /// Whether percentiles of this bucket are exact (raw values) rather than sketched.
    public var percentilesAreExact: Bool { raw != nil || sketch == nil }

    /// The `p`-th percentile (0 < p ≤ 100), nearest rank: the smallest value with at least p % of the samples
    /// at or below it. Nil when the bucket has no distribution.
    public func percentile(_ p: Double) -> Double? {
        guard hasDistribution, count > 0 else { return nil }
        let rank = Swift.max(1, ((p * count) / 100 - 1e-9).rounded(.up))
        if let raw {
            let k = Swift.min(raw.count, Int(rank)) - 1
            // A period's values are usually few: sorted in a buffer on the stack rather than a new array.
            guard raw.count <= 1_024 else { return raw.sorted()[k] }
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: raw.count) { buffer in
                var buffer = buffer
                _ = buffer.initialize(fromContentsOf: raw)
                buffer.sort()
                return buffer[k]
            }
        }
        if let sketch {
            guard let estimate = sketch.value(atRank: rank) else { return max }
            return Swift.min(Swift.max(estimate, min), max)
        }
        var seen = 0.0
        for value in values.keys.sorted() {
            seen += values[value]!
            if seen >= rank { return value }
        }
        return max
    }

    public var average: Double { count > 0 ? sum / count : 0 }
}

extension Aggregate {
    /// Serialises the distribution part (raw values or sketch) for storage; nil when there is none.
    func encodedDistribution() -> [UInt8]? {
        guard hasDistribution, count > 0 else { return nil }
        if raw != nil {
            var summary = self
            summary.summarise()
            return summary.encodedDistribution()
        }
        var writer = BinaryWriter()
        if let sketch {
            writer.writeByte(2)
            sketch.encode(into: &writer)
        } else {
            writer.writeByte(1)
            writer.writeVarint(UInt64(values.count))
            for v in values.keys.sorted() {
                writer.writeDouble(v)
                writer.writeDouble(values[v]!)
            }
        }
        return writer.bytes
    }

    /// Rebuilds an aggregate from its stored columns.
    static func decode(count: Double, sum: Double, min: Double, max: Double, distribution: [UInt8]?) throws -> Aggregate
    {
        var aggregate = Aggregate()
        aggregate.count = count
        aggregate.sum = sum
        aggregate.min = min
        aggregate.max = max
        guard let distribution else {
            aggregate.hasDistribution = false
            return aggregate
        }
        var reader = BinaryReader(distribution)
        switch try reader.readByte() {
        case 1:
            let n = try reader.readVarint()
            for _ in 0..<n {
                let v = try reader.readDouble()
                aggregate.values[v] = try reader.readDouble()
            }
        case 2:
            aggregate.sketch = try Sketch.decode(from: &reader)
        default:
            throw StoreError(code: .corrupt, message: "unknown distribution encoding")
        }
        return aggregate
    }
}
