import PlumbAPI
import PlumbMetrics

/// A `/api/v1/import` body being built: JSON lines, one per stored series, each with its values and timestamps
/// (milliseconds).
struct ImportBody {
    struct Target: Hashable {
        let key: SeriesKey
        let part: SeriesLabels.Part
        let bucket: DistributionBucket?
    }

    private var order: [Target] = []
    private var points: [Target: (timestamps: [Int64], values: [Double])] = [:]
    private var extra: [UInt8] = []

    mutating func add(
        _ key: SeriesKey, _ part: SeriesLabels.Part, _ milliseconds: Int64, _ value: Double,
        bucket: DistributionBucket? = nil
    ) {
        let target = Target(key: key, part: part, bucket: bucket)
        if points[target] == nil {
            order.append(target)
            points[target] = ([], [])
        }
        points[target]!.timestamps.append(milliseconds)
        points[target]!.values.append(value)
    }

    /// Count, sum and extremes to their companions, and the distribution (if any) to its buckets.
    mutating func addSummary(_ key: SeriesKey, _ milliseconds: Int64, _ aggregate: Aggregate) {
        add(key, .count, milliseconds, aggregate.count)
        add(key, .sum, milliseconds, aggregate.sum)
        add(key, .min, milliseconds, aggregate.min)
        add(key, .max, milliseconds, aggregate.max)
        for (bucket, weight) in aggregate.distributionBuckets() ?? [:] {
            add(key, .bucket, milliseconds, weight, bucket: bucket)
        }
    }

    /// A line for a series given by its labels.
    mutating func addLine(_ labels: [(String, String)], timestamps: [Int64], values: [Double]) {
        Self.line(labels, timestamps, values, into: &extra)
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(extra.count + points.count * 256)
        for target in order {
            let (timestamps, values) = points[target]!
            Self.line(
                SeriesLabels.labels(target.key, part: target.part, bucket: target.bucket), timestamps, values,
                into: &out)
        }
        out.append(contentsOf: extra)
        return out
    }

    static func line(_ labels: [(String, String)], _ timestamps: [Int64], _ values: [Double], into out: inout [UInt8]) {
        out.append(contentsOf: #"{"metric":{"#.utf8)
        for (i, (name, value)) in labels.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            string(name, into: &out)
            out.append(UInt8(ascii: ":"))
            string(value, into: &out)
        }
        out.append(contentsOf: #"},"values":["#.utf8)
        for (i, value) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            // Swift's shortest round-trip form. VictoriaMetrics keeps about 12 significant digits of it (it stores
            // decimals): README "Metrics on VictoriaMetrics".
            out.append(contentsOf: value.description.utf8)
        }
        out.append(contentsOf: #"],"timestamps":["#.utf8)
        for (i, timestamp) in timestamps.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: String(timestamp).utf8)
        }
        out.append(contentsOf: "]}\n".utf8)
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

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
            let seconds = floorDivision(ms, 1_000)
            guard seconds >= start && seconds < end else { continue }
            used += 1
            let slot = floorDivision(seconds, period) * period
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

/// Concurrent writes share flushes: a write waits for the first flush that starts after its import was answered
/// (the one running then may have missed it), and every write waiting meanwhile shares that next one.
actor FlushGroup {
    private let action: @Sendable () async throws -> Void
    private var generation = 0
    private var running: (id: Int, task: Task<Void, any Error>)?
    private var queued: (id: Int, task: Task<Void, any Error>)?

    init(_ action: @escaping @Sendable () async throws -> Void) { self.action = action }

    func flush() async throws {
        if let queued { return try await queued.task.value }
        generation += 1
        let id = generation
        let prior = running?.task
        let action = self.action
        let task = Task<Void, any Error> {
            if let prior { _ = await prior.result }
            // The task runs on this actor (it uses `self`): only `action` leaves it.
            self.begin(id)
            do {
                try await action()
                self.end(id)
            } catch {
                self.end(id)
                throw error
            }
        }
        if prior == nil { running = (id, task) } else { queued = (id, task) }
        try await task.value
    }

    private func begin(_ id: Int) {
        if let queued, queued.id == id {
            running = queued
            self.queued = nil
        }
    }

    private func end(_ id: Int) {
        if running?.id == id { running = nil }
    }
}
