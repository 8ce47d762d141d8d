import Synchronization

/// One storage bucket of one series: its resolution and start time.
struct BucketKey: Hashable, Sendable {
    var resolution: Int32
    var start: Int64
}

/// A series at one storage resolution: the unit raw samples are kept and chunked by (`series << 1 | high`).
enum StreamKey {
    static func make(series: Int64, resolution: Int32) -> Int64 { series << 1 | (resolution == 1 ? 1 : 0) }
    static func series(_ stream: Int64) -> Int64 { stream >> 1 }
    static func resolution(_ stream: Int64) -> Int32 { stream & 1 == 1 ? 1 : 60 }
}

/// Raw samples grouped by stream, flat: what one request brings, and what a journal record holds.
struct SampleRuns: Sendable {
    var streams: [Int64] = []
    /// The end (exclusive) of each stream's samples in `timestamps`/`values`.
    var ends: [Int] = []
    var timestamps: [Int64] = []
    var values: [Double] = []

    var isEmpty: Bool { streams.isEmpty }
    var sampleCount: Int { timestamps.count }

    func range(_ run: Int) -> Range<Int> { (run == 0 ? 0 : ends[run - 1])..<ends[run] }
}

/// One stream's raw samples in the head, in arrival order.
struct SampleBuffer: Sendable {
    var timestamps: [Int64] = []
    var values: [Double] = []
}

/// What the records of one journal segment brought to one shard of the head.
struct HeadPart: Sendable {
    /// Raw samples (single values), by stream.
    var streams: [Int64: SampleBuffer] = [:]
    /// Values with counts, statistic sets and distributions keep their aggregate form, by series and bucket.
    var buckets: [Int64: [BucketKey: Aggregate]] = [:]

    var isEmpty: Bool { streams.isEmpty && buckets.isEmpty }

    mutating func absorb(_ other: HeadPart) {
        if isEmpty {
            self = other
            return
        }
        for (stream, buffer) in other.streams {
            streams[stream, default: SampleBuffer()].timestamps += buffer.timestamps
            streams[stream, default: SampleBuffer()].values += buffer.values
        }
        for (series, aggregates) in other.buckets {
            for (key, aggregate) in aggregates {
                buckets[series, default: [:]][key, default: Aggregate()].merge(aggregate)
            }
        }
    }

    /// Adds what `series` holds in `[start, end)` to `periods` (keyed by period start).
    func read(series: Int64, start: Int64, end: Int64, period: Int64, into periods: inout [Int64: Aggregate]) {
        for resolution: Int32 in [1, 60] {
            guard let buffer = streams[StreamKey.make(series: series, resolution: resolution)] else { continue }
            let r = Int64(resolution)
            for (i, t) in buffer.timestamps.enumerated() where t >= start && t < end {
                let key = floorDiv(floorDiv(t, r) * r, period) * period
                periods[key, default: Aggregate.raw()].addRaw(buffer.values[i])
            }
        }
        guard let aggregates = buckets[series] else { return }
        for (key, aggregate) in aggregates where key.start >= start && key.start < end {
            periods[floorDiv(key.start, period) * period, default: Aggregate()].merge(aggregate)
        }
    }
}

/// The recent samples not yet in the database, sharded by series so concurrent requests rarely meet on a lock, and
/// kept apart by the journal segment their record went to: a flush takes exactly the segments it rotated away, so
/// what it writes and the journal files it then deletes always match.
final class SampleHead: Sendable {
    static let shardCount = 16

    final class Shard: Sendable {
        let parts = Mutex<[Int: HeadPart]>([:])
    }

    let shards: [Shard] = (0..<SampleHead.shardCount).map { _ in Shard() }

    static func shard(of series: Int64) -> Int { Int(UInt64(bitPattern: series) % UInt64(shardCount)) }

    /// Applies a durable record that went to journal `segment`.
    func apply(_ runs: SampleRuns, aggregated: [ResolvedSample], segment: Int) {
        for run in runs.streams.indices {
            let stream = runs.streams[run]
            let range = runs.range(run)
            shards[Self.shard(of: StreamKey.series(stream))].parts.withLock { parts in
                parts[segment, default: HeadPart()].streams[stream, default: SampleBuffer()].append(
                    runs.timestamps[range], runs.values[range])
            }
        }
        for sample in aggregated {
            let key = BucketKey(resolution: sample.resolution, start: sample.bucket)
            shards[Self.shard(of: sample.series)].parts.withLock { parts in
                parts[segment, default: HeadPart()].buckets[sample.series, default: [:]][key, default: Aggregate()].add(
                    sample.value)
            }
        }
    }

    /// Removes and returns, per shard, everything that came from segments up to `segment`.
    func take(through segment: Int) -> [HeadPart] {
        shards.map { shard in
            shard.parts.withLock { parts in
                var taken = HeadPart()
                for key in parts.keys.sorted() where key <= segment {
                    taken.absorb(parts.removeValue(forKey: key)!)
                }
                return taken
            }
        }
    }

    /// Puts parts back (a flush that failed): their samples are still in the journal, and must stay readable.
    func restore(_ taken: [HeadPart]) {
        for (i, part) in taken.enumerated() where !part.isEmpty {
            shards[i].parts.withLock { parts in parts[0, default: HeadPart()].absorb(part) }
        }
    }

    var isEmpty: Bool { shards.allSatisfy { $0.parts.withLock { $0.values.allSatisfy(\.isEmpty) } } }

    func read(series: Int64, start: Int64, end: Int64, period: Int64, into periods: inout [Int64: Aggregate]) {
        shards[Self.shard(of: series)].parts.withLock { parts in
            for part in parts.values {
                part.read(series: series, start: start, end: end, period: period, into: &periods)
            }
        }
    }
}

extension SampleBuffer {
    mutating func append(_ t: ArraySlice<Int64>, _ v: ArraySlice<Double>) {
        timestamps.append(contentsOf: t)
        values.append(contentsOf: v)
    }
}
