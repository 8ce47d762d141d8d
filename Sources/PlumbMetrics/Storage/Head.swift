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

/// The raw samples of one large record, kept whole instead of copied into per-stream buffers: applying it costs
/// almost nothing, and it is compact — times as 32-bit offsets from the record's earliest, run ends as 32-bit
/// indices — so it takes 12 bytes per sample and 12 per stream. Its runs are sorted by stream, one per stream, so a
/// reader finds a stream by binary search.
final class HeadRecord: Sendable {
    /// Records with at least this many raw samples are kept whole; smaller ones go to the per-stream buffers, so a
    /// stream of tiny requests does not leave thousands of records for every read to search.
    static let minimumSamples = 512

    let streams: [Int64]
    let ends: [UInt32]
    let base: Int64
    let offsets: [Int32]
    let values: [Double]

    /// Nil when the record cannot be kept this way (times more than 68 years apart, or 4 G samples).
    init?(_ runs: SampleRuns) {
        guard let lo = runs.timestamps.min(), let hi = runs.timestamps.max(), hi &- lo >= 0,
            hi &- lo <= Int64(Int32.max), runs.sampleCount <= Int(UInt32.max)
        else { return nil }
        let sorted = runs.sortedByStream()
        streams = sorted.streams
        ends = sorted.ends.map { UInt32($0) }
        base = lo
        offsets = sorted.timestamps.map { Int32($0 - lo) }
        values = sorted.values
    }

    var sampleCount: Int { values.count }

    func range(_ run: Int) -> Range<Int> { (run == 0 ? 0 : Int(ends[run - 1]))..<Int(ends[run]) }

    /// The index of `stream`'s run, if the record has one.
    func run(of stream: Int64) -> Int? {
        var lo = 0
        var hi = streams.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if streams[mid] < stream { lo = mid + 1 } else { hi = mid }
        }
        return lo < streams.count && streams[lo] == stream ? lo : nil
    }

    /// Appends run `run`'s samples to `buffer`.
    func append(run: Int, to buffer: inout SampleBuffer) {
        let range = range(run)
        buffer.timestamps.reserveCapacity(buffer.timestamps.count + range.count)
        for k in range { buffer.timestamps.append(base &+ Int64(offsets[k])) }
        buffer.values += values[range]
    }
}

extension SampleRuns {
    /// The same samples with the runs sorted by stream and one run per stream (a stream's runs concatenated in the
    /// order they came).
    func sortedByStream() -> SampleRuns {
        if zip(streams, streams.dropFirst()).allSatisfy({ $0 < $1 }) { return self }
        let order = streams.indices.sorted { (streams[$0], $0) < (streams[$1], $1) }
        var sorted = SampleRuns()
        sorted.timestamps.reserveCapacity(timestamps.count)
        sorted.values.reserveCapacity(values.count)
        for run in order {
            let range = range(run)
            if sorted.streams.last != streams[run] {
                if !sorted.streams.isEmpty { sorted.ends.append(sorted.timestamps.count) }
                sorted.streams.append(streams[run])
            }
            sorted.timestamps += timestamps[range]
            sorted.values += values[range]
        }
        if !sorted.streams.isEmpty { sorted.ends.append(sorted.timestamps.count) }
        return sorted
    }
}

/// What the records of one journal segment brought to one shard of the head.
struct HeadPart: Sendable {
    /// Raw samples (single values) of small records, by stream.
    var streams: [Int64: SampleBuffer] = [:]
    /// Values with counts, statistic sets and distributions keep their aggregate form, by series and bucket.
    var buckets: [Int64: [BucketKey: Aggregate]] = [:]

    var isEmpty: Bool { streams.isEmpty && buckets.isEmpty }

    var sampleCount: Int { streams.values.reduce(0) { $0 + $1.timestamps.count } }

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
            HeadRead.add(
                buffer.timestamps[...], buffer.values[...], resolution: resolution, start: start, end: end,
                period: period, into: &periods)
        }
        guard let aggregates = buckets[series] else { return }
        for (key, aggregate) in aggregates where key.start >= start && key.start < end {
            periods[floorDiv(key.start, period) * period, default: Aggregate()].merge(aggregate)
        }
    }
}

enum HeadRead {
    /// Adds raw samples in `[start, end)` to their periods.
    static func add(
        _ timestamps: ArraySlice<Int64>, _ values: ArraySlice<Double>, resolution: Int32, start: Int64, end: Int64,
        period: Int64, into periods: inout [Int64: Aggregate]
    ) {
        let r = Int64(resolution)
        for (i, t) in zip(timestamps.indices, timestamps) where t >= start && t < end {
            let key = floorDiv(floorDiv(t, r) * r, period) * period
            periods[key, default: Aggregate.raw()].addRaw(values[i])
        }
    }

    static func read(
        _ records: [HeadRecord], series: Int64, start: Int64, end: Int64, period: Int64,
        into periods: inout [Int64: Aggregate]
    ) {
        for record in records {
            for resolution: Int32 in [1, 60] {
                guard let run = record.run(of: StreamKey.make(series: series, resolution: resolution)) else {
                    continue
                }
                var buffer = SampleBuffer()
                record.append(run: run, to: &buffer)
                add(
                    buffer.timestamps[...], buffer.values[...], resolution: resolution, start: start, end: end,
                    period: period, into: &periods)
            }
        }
    }
}

/// What a flush takes from the head: the per-shard parts and the large records of the segments it closed.
struct HeadSnapshot: Sendable {
    var parts: [HeadPart]
    var records: [HeadRecord]

    var sampleCount: Int {
        parts.reduce(0) { $0 + $1.sampleCount } + records.reduce(0) { $0 + $1.sampleCount }
    }

    func read(series: Int64, start: Int64, end: Int64, period: Int64, into periods: inout [Int64: Aggregate]) {
        parts[SampleHead.shard(of: series)].read(
            series: series, start: start, end: end, period: period, into: &periods)
        HeadRead.read(records, series: series, start: start, end: end, period: period, into: &periods)
    }

    /// Every stream's raw samples, one stream at a time in stream order, from the buffers and the records together
    /// (buffered samples first, then each record's in the order the records came).
    func forEachStream(_ body: (Int64, SampleBuffer) throws -> Void) rethrows {
        var all = Set<Int64>()
        for part in parts { all.formUnion(part.streams.keys) }
        for record in records { all.formUnion(record.streams) }
        var cursors = [Int](repeating: 0, count: records.count)
        for stream in all.sorted() {
            var buffer = parts[SampleHead.shard(of: StreamKey.series(stream))].streams[stream] ?? SampleBuffer()
            for (k, record) in records.enumerated() {
                guard cursors[k] < record.streams.count, record.streams[cursors[k]] == stream else { continue }
                record.append(run: cursors[k], to: &buffer)
                cursors[k] += 1
            }
            try body(stream, buffer)
        }
    }
}

/// The recent samples not yet in the database, kept apart by the journal segment their record went to: a flush takes
/// exactly the segments it rotated away, so what it writes and the journal files it then deletes always match.
///
/// Large records are kept whole (`HeadRecord`); small ones are copied into per-stream buffers sharded by series, so
/// concurrent requests rarely meet on a lock.
final class SampleHead: Sendable {
    static let shardCount = 16

    final class Shard: Sendable {
        let parts = Mutex<[Int: HeadPart]>([:])
    }

    let shards: [Shard] = (0..<SampleHead.shardCount).map { _ in Shard() }
    /// Large records, by segment, in the order they were applied.
    let records = Mutex<[Int: [HeadRecord]]>([:])

    static func shard(of series: Int64) -> Int { Int(UInt64(bitPattern: series) % UInt64(shardCount)) }

    /// Applies a durable record that went to journal `segment`.
    func apply(_ runs: SampleRuns, aggregated: [ResolvedSample], segment: Int) {
        if runs.sampleCount >= HeadRecord.minimumSamples, let record = HeadRecord(runs) {
            records.withLock { $0[segment, default: []].append(record) }
        } else if !runs.isEmpty {
            // The runs by shard, so each shard's lock is taken once per record.
            var byShard = [[Int]](repeating: [], count: Self.shardCount)
            for run in runs.streams.indices {
                byShard[Self.shard(of: StreamKey.series(runs.streams[run]))].append(run)
            }
            for (shard, list) in byShard.enumerated() where !list.isEmpty {
                shards[shard].parts.withLock { parts in
                    var part = parts.removeValue(forKey: segment) ?? HeadPart()
                    for run in list {
                        let range = runs.range(run)
                        part.streams[runs.streams[run], default: SampleBuffer()].append(
                            runs.timestamps[range], runs.values[range])
                    }
                    parts[segment] = part
                }
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

    /// Removes and returns everything that came from segments up to `segment`.
    func take(through segment: Int) -> HeadSnapshot {
        let parts = shards.map { shard in
            shard.parts.withLock { parts in
                var taken = HeadPart()
                for key in parts.keys.sorted() where key <= segment {
                    taken.absorb(parts.removeValue(forKey: key)!)
                }
                return taken
            }
        }
        let taken = records.withLock { records in
            var taken: [HeadRecord] = []
            for key in records.keys.sorted() where key <= segment { taken += records.removeValue(forKey: key)! }
            return taken
        }
        return HeadSnapshot(parts: parts, records: taken)
    }

    /// Puts a snapshot back (a flush that failed): its samples are still in the journal, and must stay readable.
    func restore(_ taken: HeadSnapshot) {
        for (i, part) in taken.parts.enumerated() where !part.isEmpty {
            shards[i].parts.withLock { parts in parts[0, default: HeadPart()].absorb(part) }
        }
        if !taken.records.isEmpty { records.withLock { $0[0, default: []].insert(contentsOf: taken.records, at: 0) } }
    }

    var isEmpty: Bool {
        shards.allSatisfy { $0.parts.withLock { $0.values.allSatisfy(\.isEmpty) } }
            && records.withLock { $0.values.allSatisfy(\.isEmpty) }
    }

    func read(series: Int64, start: Int64, end: Int64, period: Int64, into periods: inout [Int64: Aggregate]) {
        shards[Self.shard(of: series)].parts.withLock { parts in
            for part in parts.values {
                part.read(series: series, start: start, end: end, period: period, into: &periods)
            }
        }
        records.withLock { records in
            for list in records.values {
                HeadRead.read(list, series: series, start: start, end: end, period: period, into: &periods)
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
