import PlumbAPI
import PlumbMetrics

/// The periods of one read request, folded from exported series as they arrive.
struct PeriodFold {
    struct Companions {
        var count = 0.0
        var sum = 0.0
        var min = Double.infinity
        var max = -Double.infinity
        var buckets: [DistributionBucket: Double] = [:]
    }

    let request: AggregateRequest
    private var raw: [Int64: Aggregate] = [:]
    private var companions: [Int64: Companions] = [:]

    init(_ request: AggregateRequest) { self.request = request }

    /// Folds an exported series in; returns how many of its samples fell in the request's range.
    @discardableResult
    mutating func add(
        part: SeriesLabels.Part, bucket: DistributionBucket?, timestamps: [JSONValue], values: [JSONValue]
    ) -> Int {
        var used = 0
        let start = request.start
        let end = request.end
        let period = request.period
        for (t, v) in zip(timestamps, values) {
            guard case .number(let milliseconds) = t, case .number(let value) = v,
                let ms = Int64(exactly: milliseconds.rounded(.down))
            else { continue }
            let seconds = Checked.floorDivision(ms, 1_000)
            guard seconds >= start && seconds < end else { continue }
            used += 1
            let slot = Checked.floorDivision(seconds, period) * period
            switch part {
            case .value:
                if request.distribution {
                    raw[slot, default: .raw()].addRaw(value)
                } else {
                    raw[slot, default: Aggregate()].addStatistics(count: 1, sum: value, min: value, max: value)
                }
            case .count: companions[slot, default: Companions()].count += value
            case .sum: companions[slot, default: Companions()].sum += value
            case .min:
                let low = companions[slot]?.min ?? value
                companions[slot, default: Companions()].min = Swift.min(low, value)
            case .max:
                let high = companions[slot]?.max ?? value
                companions[slot, default: Companions()].max = Swift.max(high, value)
            case .bucket:
                guard request.distribution, let bucket else { continue }
                companions[slot, default: Companions()].buckets[bucket, default: 0] += value
            case .catalog: continue
            }
        }
        return used
    }

    /// Each period's aggregate: its raw samples merged with its companions' summary. A period whose companions
    /// include a statistic set (bucket weights short of the count) has no percentiles, as CloudWatch.
    func result() -> [Int64: Aggregate] {
        var periods = raw
        for (slot, summary) in companions where summary.count > 0 {
            let weight = summary.buckets.values.reduce(0, +)
            let complete = abs(weight - summary.count) <= 1e-9 * summary.count
            let aggregate = Aggregate.summary(
                count: summary.count, sum: summary.sum, min: summary.min, max: summary.max,
                buckets: request.distribution && complete ? summary.buckets : nil)
            periods[slot, default: Aggregate()].merge(aggregate)
        }
        return periods
    }
}
