import Foundation
import GRDB
import Logging
import PlumbAPI
import PlumbStore
import Synchronization

/// The embedded time-series store: accepts samples, answers statistics queries.
///
/// Layout (`<data>/metrics/`... see the README's "Storage"): an accepted request becomes one record of an append-only
/// journal in files (`metrics-journal/`); requests that arrive while a sync runs share the next `fdatasync` (group
/// commit), and a request is answered only after its record is durable, so a 2xx means the data is on disk under
/// `durability: full` (under `normal`, in the operating system, which survives a crash of the process). The record is
/// then applied to the head in memory, sharded by series. Every `flush()` rotates the journal, takes the head of the
/// segments it closed, writes it to SQLite (`metrics.sqlite`) as compressed per-series chunks of raw samples — on
/// SQLite's writer, which no acknowledgement waits for — and deletes those segments. On start, segments newer than the
/// last flush are replayed into the head.
///
/// Values with counts, statistic sets and distributions keep their aggregate form (`points`, 1 s/60 s buckets), as do
/// the rolled-up tiers; raw samples stay raw for 15 days, so percentiles over them are exact.
public final class MetricStore: Sendable {
    public let database: SQLiteStore
    let registry: SeriesRegistry
    let journal: Journal
    let head = SampleHead()
    /// Series ids of line-protocol heads seen before.
    let headSeries = HeadSeriesCache()
    /// Samples in the head (not counting what a flush has taken): the service flushes early past
    /// `MetricStoreService.flushSamples`, so memory stays bounded however fast data comes in.
    let headSamples = Atomic<Int>(0)
    /// Samples a flush under way has taken and not yet written.
    let flushingSamples = Atomic<Int>(0)
    /// How many samples may wait in memory (the head and a flush under way together), and how long a write waits
    /// for room; nil for no limit. Set by `MetricStoreService`, the one that frees room, while it runs.
    let admission = Mutex<Admission?>(nil)

    struct Admission {
        var limit: Int
        var timeout: Duration
    }
    public let clock: @Sendable () -> Int64
    public let logger: Logger
    /// The journal directory, beside the database.
    let journalDirectory: String

    struct FlushingHead {
        var generation: Int64
        var taken: HeadSnapshot
    }

    struct State {
        /// Heads taken by a flush, by flush generation, kept until no reader can still need them.
        var flushing: [FlushingHead] = []
        var generation: Int64 = 0
        /// The newest generation whose transaction has committed.
        var committed: Int64 = 0
        /// Readers under way, each with the generation committed when it began: its snapshot holds at least that
        /// one, so it needs only the flushing heads after it.
        var readers: [Int: Int64] = [:]
        var nextReader = 0
        /// The newest chunk of each stream written so far (the one a flush extends while it has room).
        var lastChunks: [Int64: ChunkRef] = [:]
        var flushRunning = false
    }

    let state = Mutex(State())

    /// Opens (or creates) the store in `directory` (`metrics.sqlite` and `metrics-journal/`), upgrading a store of
    /// an earlier release in place, and replays the journal.
    public init(
        directory: String, durability: Durability = .full,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plumb.metrics")
    ) throws {
        database = try SQLiteStore(
            path: directory + "/metrics.sqlite", durability: durability, migrations: Self.migrations)
        self.clock = clock
        self.logger = logger
        journalDirectory = directory + "/metrics-journal"
        let (series, legacy, generation, flushedThrough) = try database.pool.read { db in
            let series = try Row.fetchAll(db, sql: "SELECT id, namespace, name, dims, unit FROM series").map { row in
                SeriesInfo(
                    id: row["id"],
                    key: SeriesKey(
                        namespace: row["namespace"], name: row["name"],
                        dimensions: SeriesKey.parseDimensionsText(row["dims"])),
                    unit: (row["unit"] as String?).flatMap(MetricUnit.init(rawValue:))
                )
            }
            let legacy = try Int.fetchOne(db, sql: "SELECT count(*) FROM journal") ?? 0
            let generation = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed_generation'") ?? 0
            let through = try Int.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'journal_through'") ?? 0
            return (series, legacy, generation, through)
        }
        registry = SeriesRegistry(existing: series)
        state.withLock { s in
            s.generation = generation
            s.committed = generation
        }
        try FileManager.default.createDirectory(
            atPath: journalDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Segments a flush already wrote but could not delete before a crash.
        for segment in try Journal.segments(directory: journalDirectory, name: "metrics")
        where segment.sequence <= flushedThrough {
            try FileManager.default.removeItem(atPath: segment.path)
        }
        // Appends go to a new segment after the ones replayed below.
        journal = try Journal(directory: journalDirectory, name: "metrics", durability: durability)
        if legacy > 0 { try replayLegacyJournal(count: legacy) }
        var samples = 0
        let (records, torn) = try Journal.replay(directory: journalDirectory, name: "metrics") { bytes in
            let record = try MetricRecord.decode(bytes)
            for info in record.definitions { registry.define(info) }
            head.apply(record.runs, aggregated: record.aggregated, segment: 0)
            headSamples.add(record.runs.sampleCount, ordering: .relaxed)
            samples += record.runs.sampleCount + record.aggregated.count
        }
        if records > 0 { logger.info("replayed \(records) journal records (\(samples) samples) into the head") }
        if torn > 0 { logger.warning("\(torn) journal segments ended in a torn record (a crash mid-write): dropped") }
    }

    deinit { journal.shutdown() }

    /// Stops the journal once what was handed to it is written. The store refuses writes afterwards.
    public func close() async { await journal.close() }

    // MARK: Ingest

    /// Stores validated samples; returns once they are durable.
    public func put(_ samples: [Sample]) async throws {
        guard !samples.isEmpty else { return }
        try await admit(samples.count)
        try await commit(resolve(samples))
    }

    /// Stores validated samples synchronously: when it returns they are durable.
    ///
    /// For a writer that must know the samples are on disk before it commits its own transaction (the log store's
    /// metric filters, `MetricSampleSink`); it blocks the calling thread for one journal sync.
    public func append(_ samples: [Sample]) throws {
        guard !samples.isEmpty else { return }
        let record = resolve(samples)
        let segment: Int
        do {
            segment = try journal.appendBlocking(record.encode())
        } catch {
            throw commitFailure(error)
        }
        applied(record, segment: segment)
    }

    /// Stores a parsed line-protocol batch at `resolution`; returns once it is durable.
    public func put(_ batch: LineProtocolBatch, resolution: StorageResolution) async throws {
        guard !batch.points.isEmpty else { return }
        try await admit(batch.points.count)
        try await commit(resolve(batch, resolution: resolution))
    }

    /// Waits until `samples` more fit under the admission limit: a sender faster than the flush is slowed to its pace
    /// instead of filling memory, and refused with 503 and `Retry-After` once it has waited the admission timeout.
    /// A request counts for at most half the limit, so one larger than that still goes through once the head is
    /// half empty, even while others keep writing (memory then holds at most the limit plus that one request).
    func admit(_ samples: Int) async throws {
        guard let admission = admission.withLock({ $0 }) else { return }
        let need = min(samples, admission.limit / 2)
        func full() -> Bool {
            let held = headSamples.load(ordering: .relaxed) + flushingSamples.load(ordering: .relaxed)
            return held + need > admission.limit
        }
        guard full() else { return }
        let deadline = ContinuousClock.now + admission.timeout
        while full() {
            guard ContinuousClock.now < deadline else {
                throw MetricsError(
                    code: "ServiceUnavailable",
                    message: "the metric store is behind: \(admission.limit) samples wait to be written; try again",
                    httpStatus: 503, retryAfter: 1)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Appends a record to the journal, then, once it is durable, applies it.
    private func commit(_ record: MetricRecord) async throws {
        let segment: Int
        do {
            segment = try await journal.append(record.encode())
        } catch {
            throw commitFailure(error)
        }
        applied(record, segment: segment)
    }

    private func commitFailure(_ error: any Error) -> MetricsError {
        logger.error("metrics commit failed: \(error)")
        return MetricsError(code: "InternalFailure", message: "could not store the data: \(error)", httpStatus: 503)
    }

    /// A record is durable in `segment`: its definitions no longer need repeating, its samples join the head.
    private func applied(_ record: MetricRecord, segment: Int) {
        registry.markDurable(record.definitions)
        head.apply(record.runs, aggregated: record.aggregated, segment: segment)
        headSamples.add(record.runs.sampleCount, ordering: .relaxed)
        journal.markApplied(segment)
    }

    func resolve(_ samples: [Sample]) -> MetricRecord {
        let (ids, undurable) = registry.resolve(samples.map(\.series), units: samples.map(\.unit))
        var record = MetricRecord(definitions: undurable)
        var singles: [(stream: Int64, index: Int)] = []
        for (i, sample) in samples.enumerated() {
            let resolution = Int32(sample.resolution.rawValue)
            if case .single = sample.value {
                singles.append((StreamKey.make(series: ids[i], resolution: resolution), i))
            } else {
                record.aggregated.append(
                    ResolvedSample(
                        series: ids[i], timestamp: sample.timestamp, resolution: resolution, value: sample.value))
            }
        }
        // Group by stream, keeping each stream's samples in the order sent.
        singles.sort { ($0.stream, $0.index) < ($1.stream, $1.index) }
        for (n, entry) in singles.enumerated() {
            if n == 0 || singles[n - 1].stream != entry.stream {
                if n > 0 { record.runs.ends.append(n) }
                record.runs.streams.append(entry.stream)
            }
            guard case .single(let value) = samples[entry.index].value else { continue }
            record.runs.timestamps.append(samples[entry.index].timestamp)
            record.runs.values.append(value)
        }
        if !singles.isEmpty { record.runs.ends.append(singles.count) }
        return record
    }

    func resolve(_ batch: LineProtocolBatch, resolution: StorageResolution) -> MetricRecord {
        // One slot per (head, field) pair of the request: a flat table when the pairs are few, else a dictionary.
        let width = batch.fields.count
        let flat = batch.heads.count * width <= 1 << 20
        var table = flat ? [Int32](repeating: -1, count: batch.heads.count * width) : []
        var slots: [Int64: Int32] = [:]
        var pairs: [(head: Int32, field: Int32)] = []
        var slotOfPoint = [Int32](repeating: 0, count: batch.points.count)
        for (i, p) in batch.points.enumerated() {
            let pair = Int(p.head) * width + Int(p.field)
            let known = flat ? table[pair] : (slots[Int64(pair)] ?? -1)
            if known >= 0 {
                slotOfPoint[i] = known
                continue
            }
            pairs.append((p.head, p.field))
            let slot = Int32(pairs.count - 1)
            if flat { table[pair] = slot } else { slots[Int64(pair)] = slot }
            slotOfPoint[i] = slot
        }
        // Series seen before through the same head object come from the cache; the others from the registry.
        var ids = headSeries.lookup(batch, pairs)
        let known = ids.filter { $0 >= 0 }
        var undurable = registry.undurable(among: known)
        if known.count < ids.count {
            let missing = pairs.indices.filter { ids[$0] < 0 }
            let keys = missing.map { slot in
                let head = batch.heads[Int(pairs[slot].head)]
                return SeriesKey(
                    namespace: head.namespace, name: batch.fields[Int(pairs[slot].field)], dimensions: head.dimensions)
            }
            let resolved = registry.resolve(keys, units: Array(repeating: nil, count: keys.count))
            for (n, slot) in missing.enumerated() { ids[slot] = resolved.ids[n] }
            undurable += resolved.undurable
            headSeries.remember(batch, missing.map { pairs[$0] }, ids: resolved.ids)
        }
        // The slots in series order, then a counting sort of the points by that rank: each stream's samples
        // together, in the order sent, and the runs sorted by stream as the head keeps them.
        let bySeries = ids.indices.sorted { ids[$0] < ids[$1] }
        var rank = [Int32](repeating: 0, count: pairs.count)
        for (r, slot) in bySeries.enumerated() { rank[slot] = Int32(r) }
        var starts = [Int](repeating: 0, count: pairs.count + 1)
        for slot in slotOfPoint { starts[Int(rank[Int(slot)]) + 1] += 1 }
        for s in 0..<pairs.count { starts[s + 1] += starts[s] }
        var record = MetricRecord(definitions: undurable)
        record.runs.timestamps = [Int64](repeating: 0, count: batch.points.count)
        record.runs.values = [Double](repeating: 0, count: batch.points.count)
        var next = starts
        for (i, p) in batch.points.enumerated() {
            let r = Int(rank[Int(slotOfPoint[i])])
            record.runs.timestamps[next[r]] = p.timestamp
            record.runs.values[next[r]] = p.value
            next[r] += 1
        }
        let res = Int32(resolution.rawValue)
        record.runs.streams = bySeries.map { StreamKey.make(series: ids[$0], resolution: res) }
        record.runs.ends = Array(starts.dropFirst())
        return record
    }

    // MARK: Listing

    /// Whether the head holds anything the next flush would write.
    public var headIsEmpty: Bool { head.isEmpty }

    /// How many raw samples the head holds (approximately, while requests are being applied).
    public var headSampleCount: Int { headSamples.load(ordering: .relaxed) }

    /// Every series, optionally filtered by namespace and metric name.
    public func listMetrics(namespace: String? = nil, name: String? = nil) -> [SeriesInfo] {
        // Each series' dimension text is made once, not in every comparison of the sort.
        registry.all()
            .filter { (namespace == nil || $0.key.namespace == namespace) && (name == nil || $0.key.name == name) }
            .map { ($0, $0.key.dimensionsText) }
            .sorted { a, b in
                if a.0.key.namespace != b.0.key.namespace { return a.0.key.namespace < b.0.key.namespace }
                if a.0.key.name != b.0.key.name { return a.0.key.name < b.0.key.name }
                return a.1 < b.1
            }
            .map(\.0)
    }

    public func allSeries() -> [SeriesInfo] { registry.all() }

    public func seriesInfo(_ key: SeriesKey) -> SeriesInfo? {
        registry.id(of: key).flatMap(registry.info)
    }
}

extension MetricStore.State {
    /// Drops the flushing heads that are committed and that no reader under way can still need.
    mutating func pruneFlushing() {
        let floor = min(committed, readers.values.min() ?? committed)
        flushing.removeAll { $0.generation <= floor }
    }
}

extension Aggregate {
    static func decode(_ row: Row) throws -> Aggregate {
        try decode(
            count: row["count"], sum: row["sum"], min: row["min"], max: row["max"],
            distribution: (row["dist"] as Data?).map { [UInt8]($0) })
    }
}
