import PlumbAPI
import PlumbStore
import Synchronization

/// Turns OpenTelemetry's cumulative points (a counter's running total, a histogram since its start) into what each
/// point adds since the one before, as CloudWatch keeps counters and distributions: a period's `Sum` is what the
/// counter counted in it, a period's percentiles are those of the values recorded in it.
///
/// Per series it keeps the last point and the start time of the stream it belongs to.
/// - The next point of the same stream adds its difference to the last one.
/// - A point with another start time, or less than the last one, is a restart: it adds its whole value.
/// - The first point of a stream adds its whole value when the stream started after this tracker did (nothing of it
///   can have been missed), and is a baseline that adds nothing when it started before (after a restart of Plumb,
///   the points before were already counted).
///
/// - A point no later than the last one of its stream (a retried request arriving after a newer one) adds nothing
///   and changes nothing.
///
/// A request's differences are computed against a `Pending` overlay and committed only once its samples are stored,
/// so an exporter retrying a refused request is counted once; the caller serialises requests that carry cumulative
/// points (`lock`), so two of them never compute against the same state. Series idle for `idleSeconds` are
/// forgotten, and the table holds at most `capacity` weight units (a series weighs 1, a histogram 1 per 16 buckets);
/// beyond, the least recently seen go first, and the epoch moves to that moment, so a forgotten series that comes back
/// starts as a baseline instead of counting its whole total again.
///
/// Each node keeps its own: behind a load balancer without affinity, exporters should send delta temporality
/// (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`), which needs no state at all.
public final class CumulativeTracker: Sendable {
    public enum State: Sendable, Equatable {
        case number(Double)
        case histogram(bounds: [Double], counts: [UInt64], count: UInt64, sum: Double, range: Range)
        case exponential(ExponentialBuckets, sum: Double, range: Range)
    }

    /// A histogram's minimum and maximum since its start, when the exporter sends them.
    public struct Range: Sendable, Equatable {
        public var min: Double?
        public var max: Double?

        /// The minimum and maximum of what a point adds to `earlier`: exact where this point's moved (the new extreme
        /// was recorded since), else only bounds (nil, and the buckets' range is used, clamped to this one).
        func added(since earlier: Range) -> (exactMin: Double?, exactMax: Double?) {
            let newMin = min.flatMap { m in earlier.min.map { m < $0 ? m : nil } ?? m }
            let newMax = max.flatMap { m in earlier.max.map { m > $0 ? m : nil } ?? m }
            return (newMin, newMax)
        }
    }

    public struct Entry: Sendable {
        var start: UInt64
        /// The point's own time (nanoseconds).
        var time: UInt64
        var state: State
        var seen: Int64

        var weight: Int {
            switch state {
            case .number: 1
            case .histogram(_, let counts, _, _, _): 1 + counts.count / 16
            case .exponential(let b, _, _): 1 + (b.positive.count + b.negative.count) / 16
            }
        }
    }

    /// The points of one request, not yet committed.
    public struct Pending: Sendable {
        var entries: [SeriesKey: Entry] = [:]
        public var isEmpty: Bool { entries.isEmpty }
    }

    struct Table {
        var entries: [SeriesKey: Entry] = [:]
        var weight = 0
        /// Nanoseconds since the epoch from which this tracker has seen every point (moved when it forgets).
        var epoch: UInt64
    }

    public let capacity: Int
    public let idleSeconds: Int64
    let table: Mutex<Table>
    /// Held by a request with cumulative points from its decoding to its commit.
    public let lock = AsyncLock()

    public init(epochNanos: UInt64, capacity: Int = 200_000, idleSeconds: Int64 = 3_600) {
        table = Mutex(Table(epoch: epochNanos))
        self.capacity = capacity
        self.idleSeconds = idleSeconds
    }

    public var count: Int { table.withLock { $0.entries.count } }
    var epochNanos: UInt64 { table.withLock { $0.epoch } }

    /// The last point of `series` (the request's own earlier point first).
    func last(_ series: SeriesKey, pending: Pending) -> Entry? {
        pending.entries[series] ?? table.withLock { $0.entries[series] }
    }

    /// What a cumulative point adds: nil for a baseline (nothing to store). `whole` is the point's own state, and
    /// `difference` computes the part since `previous` (nil when the point went backwards: a restart).
    func delta<Value>(
        _ series: SeriesKey, start: UInt64, time: UInt64, state: State, now: Int64, pending: inout Pending,
        whole: Value, difference: (State) -> Value?
    ) -> Value? {
        let previous = last(series, pending: pending)
        let sameStream = previous.map { start == 0 || $0.start == 0 || start == $0.start } ?? false
        // Late or repeated: the stream has moved past this point already.
        if let previous, sameStream, time != 0, time <= previous.time { return nil }
        pending.entries[series] = Entry(start: start, time: time, state: state, seen: now)
        guard let previous else {
            return start != 0 && start >= epochNanos ? whole : nil
        }
        if !sameStream { return whole }
        return difference(previous.state) ?? whole
    }

    /// Keeps the request's points, once its samples are stored.
    public func commit(_ pending: Pending, now: Int64) {
        guard !pending.isEmpty else { return }
        table.withLock { table in
            for (series, entry) in pending.entries {
                table.weight += entry.weight - (table.entries[series]?.weight ?? 0)
                table.entries[series] = entry
            }
            guard table.weight > capacity else { return }
            let cutoff = now - idleSeconds
            var kept = table.entries.filter { $0.value.seen >= cutoff }
            var weight = kept.values.reduce(0) { $0 + $1.weight }
            if weight > capacity * 9 / 10 {
                var order = kept.sorted { $0.value.seen > $1.value.seen }
                weight = 0
                let keep = order.prefix { entry in
                    weight += entry.value.weight
                    return weight <= capacity * 9 / 10
                }.count
                weight = order[..<keep].reduce(0) { $0 + $1.value.weight }
                order.removeSubrange(keep...)
                kept = Dictionary(uniqueKeysWithValues: order.map { ($0.key, $0.value) })
            }
            table.entries = kept
            table.weight = weight
            // What was forgotten may come back: from now on, a stream that started before is a baseline.
            let (nanos, overflow) = UInt64(clamping: now).multipliedReportingOverflow(by: 1_000_000_000)
            table.epoch = max(table.epoch, overflow ? .max : nanos)
        }
    }
}

/// The buckets of an exponential histogram point: counts by bucket index at `scale`, positive and negative, and the
/// zero bucket.
public struct ExponentialBuckets: Sendable, Equatable {
    public var scale: Int32
    public var zeroCount: UInt64
    public var positive: [Int: UInt64]
    public var negative: [Int: UInt64]

    public var count: UInt64 {
        positive.values.reduce(zeroCount, &+) &+ negative.values.reduce(0, &+)
    }

    /// The same buckets at a coarser `scale` (a bucket at scale s is half of one at s − 1).
    func downscaled(to target: Int32) -> ExponentialBuckets {
        guard target < scale else { return self }
        let shift = Int(scale - target)
        func merge(_ buckets: [Int: UInt64]) -> [Int: UInt64] {
            var out: [Int: UInt64] = [:]
            for (index, count) in buckets { out[index >> shift, default: 0] &+= count }
            return out
        }
        return ExponentialBuckets(
            scale: target, zeroCount: zeroCount, positive: merge(positive), negative: merge(negative))
    }

    /// `self − earlier` bucket by bucket, at the coarser of the two scales; nil when a bucket went down.
    func subtracting(_ earlier: ExponentialBuckets) -> ExponentialBuckets? {
        let target = min(scale, earlier.scale)
        let a = downscaled(to: target)
        let b = earlier.downscaled(to: target)
        guard a.zeroCount >= b.zeroCount else { return nil }
        func minus(_ x: [Int: UInt64], _ y: [Int: UInt64]) -> [Int: UInt64]? {
            var out = x
            for (index, count) in y {
                guard let have = out[index], have >= count else {
                    if count == 0 { continue }
                    return nil
                }
                out[index] = have - count
            }
            return out
        }
        guard let positive = minus(a.positive, b.positive), let negative = minus(a.negative, b.negative) else {
            return nil
        }
        return ExponentialBuckets(
            scale: target, zeroCount: a.zeroCount - b.zeroCount, positive: positive, negative: negative)
    }
}
