import Foundation
import GRDB
import Logging
import PlumbAPI
import PlumbStore
import Synchronization

/// The durable time-series store: accepts samples, answers statistics queries.
///
/// Durability model: an accepted request is first appended to a journal table in SQLite (WAL, by default
/// `synchronous=FULL`), then aggregated into the in-memory head. Concurrent requests share one commit (group
/// commit): whoever finds no commit under way becomes the leader, writes every pending request in one
/// transaction and wakes the others. A request is answered only after its commit, so a 2xx means the data is
/// on disk. `flush()` moves the head into the `points` table and deletes the journal entries it covered, in
/// one transaction; on start the journal is replayed into the head.
public final class MetricStore: Sendable {
    public let database: SQLiteStore
    let registry: SeriesRegistry
    public let clock: @Sendable () -> Int64
    public let logger: Logger

    struct PendingWrite {
        var samples: [ResolvedSample]
        var continuation: CheckedContinuation<Void, Error>
    }

    struct State {
        var head = Head()
        /// Heads taken by a flush, by flush generation, kept until no reader can still need them.
        var flushing: [(generation: Int64, head: Head, committedAt: Int64?)] = []
        var generation: Int64 = 0
        var lastAppliedJournalID: Int64 = 0
        var pending: [PendingWrite] = []
        var committing = false
    }

    let state = Mutex(State())

    /// Opens (or creates) the store in `directory/metrics.sqlite` and replays its journal.
    public init(
        directory: String, durability: Durability = .full,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plumb.metrics")
    ) throws {
        database = try SQLiteStore(
            path: directory + "/metrics.sqlite", durability: durability, migrations: Self.migrations)
        self.clock = clock
        self.logger = logger
        let (series, journal, generation) = try database.pool.read { db in
            let series = try Row.fetchAll(db, sql: "SELECT id, namespace, name, dims, unit FROM series").map { row in
                SeriesInfo(
                    id: row["id"],
                    key: SeriesKey(
                        namespace: row["namespace"], name: row["name"],
                        dimensions: SeriesKey.parseDimensionsText(row["dims"])),
                    unit: (row["unit"] as String?).flatMap(MetricUnit.init(rawValue:))
                )
            }
            let journal = try Row.fetchAll(db, sql: "SELECT id, body FROM journal ORDER BY id").map {
                ($0["id"] as Int64, [UInt8]($0["body"] as Data))
            }
            let generation = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed_generation'") ?? 0
            return (series, journal, generation)
        }
        registry = SeriesRegistry(existing: series)
        var head = Head()
        var last: Int64 = 0
        for (id, body) in journal {
            head.apply(try JournalCodec.decode(body))
            last = id
        }
        state.withLock { s in
            s.head = head
            s.lastAppliedJournalID = last
            s.generation = generation
        }
        if !journal.isEmpty { logger.info("replayed \(journal.count) journal entries into the head") }
    }

    static let migrations: [Migration] = [
        Migration("metrics-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE series (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL,
                        dims TEXT NOT NULL, unit TEXT, UNIQUE (namespace, name, dims));
                    CREATE TABLE journal (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
                    CREATE TABLE points (series INTEGER NOT NULL, res INTEGER NOT NULL, ts INTEGER NOT NULL,
                        count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, dist BLOB,
                        PRIMARY KEY (series, res, ts)) WITHOUT ROWID;
                    CREATE INDEX points_by_age ON points (res, ts);
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO meta VALUES ('flushed_generation', 0);
                    """)
        }
    ]

    // MARK: Ingest

    /// Stores validated samples; returns once they are committed to disk.
    public func put(_ samples: [Sample]) async throws {
        guard !samples.isEmpty else { return }
        try await commit(resolve(samples))
    }

    /// Stores validated samples in a journal entry of their own, synchronously: when it returns they are on disk.
    ///
    /// For a writer that must know the samples are durable before it commits its own transaction (the log store's
    /// metric filters, `MetricSampleSink`); it blocks the calling thread for one commit, as any synchronous SQLite
    /// write does, and skips the group commit that `put` joins.
    public func append(_ samples: [Sample]) throws {
        guard !samples.isEmpty else { return }
        let resolved = resolve(samples)
        do {
            try database.pool.writeWithoutTransaction { db in try journal(db, [resolved]) }
        } catch {
            logger.error("metrics commit failed: \(error)")
            throw MetricsError(code: "InternalFailure", message: "could not store the data: \(error)", httpStatus: 503)
        }
    }

    func resolve(_ samples: [Sample]) -> [ResolvedSample] {
        let ids = registry.resolve(samples.map(\.series), units: samples.map(\.unit))
        return samples.indices.map { i in
            ResolvedSample(
                series: ids[i], timestamp: samples[i].timestamp, resolution: Int32(samples[i].resolution.rawValue),
                value: samples[i].value)
        }
    }

    /// Writes the pending series definitions and one journal entry, then applies the entry to the head.
    ///
    /// Runs on the database's writer (`writeWithoutTransaction`), which both the group commit and `append` use: the
    /// head takes entries in journal-id order, so a flush's watermark (`lastAppliedJournalID`) never passes an entry
    /// the head has not yet taken; and a series definition is taken (or put back after a failure) while no other
    /// writer can commit an entry that refers to it.
    private func journal(_ db: Database, _ writes: [[ResolvedSample]]) throws {
        let series = registry.takeUnwritten()
        do {
            var lastID: Int64 = 0
            try db.inTransaction {
                for info in series {
                    try db.execute(
                        sql:
                            "INSERT INTO series (id, namespace, name, dims, unit) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET unit = excluded.unit",
                        arguments: [
                            info.id, info.key.namespace, info.key.name, info.key.dimensionsText, info.unit?.rawValue,
                        ])
                }
                var body: [UInt8] = []
                for samples in writes { body.append(contentsOf: JournalCodec.encode(samples)) }
                try db.execute(sql: "INSERT INTO journal (body) VALUES (?)", arguments: [Data(body)])
                lastID = db.lastInsertedRowID
                return .commit
            }
            state.withLock { s in
                for samples in writes { s.head.apply(samples) }
                s.lastAppliedJournalID = lastID
            }
        } catch {
            registry.restoreUnwritten(series)
            throw error
        }
    }

    /// Stores a parsed line-protocol batch at `resolution`; returns once it is committed to disk.
    public func put(_ batch: LineProtocolBatch, resolution: StorageResolution) async throws {
        guard !batch.points.isEmpty else { return }
        var slots: [Int64: Int] = [:]
        var keys: [SeriesKey] = []
        var slotOfPoint = [Int](repeating: 0, count: batch.points.count)
        for (i, p) in batch.points.enumerated() {
            let pair = Int64(p.head) << 32 | Int64(p.field)
            if let slot = slots[pair] {
                slotOfPoint[i] = slot
            } else {
                let head = batch.heads[Int(p.head)]
                keys.append(
                    SeriesKey(namespace: head.namespace, name: batch.fields[Int(p.field)], dimensions: head.dimensions))
                slots[pair] = keys.count - 1
                slotOfPoint[i] = keys.count - 1
            }
        }
        let ids = registry.resolve(keys, units: Array(repeating: nil, count: keys.count))
        let res = Int32(resolution.rawValue)
        var resolved: [ResolvedSample] = []
        resolved.reserveCapacity(batch.points.count)
        for (i, p) in batch.points.enumerated() {
            resolved.append(
                ResolvedSample(
                    series: ids[slotOfPoint[i]], timestamp: p.timestamp, resolution: res, value: .single(p.value)))
        }
        try await commit(resolved)
    }

    /// Group commit: join the pending batch; the first writer to find no commit under way leads.
    func commit(_ samples: [ResolvedSample]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let lead = state.withLock { s in
                s.pending.append(PendingWrite(samples: samples, continuation: continuation))
                if s.committing { return false }
                s.committing = true
                return true
            }
            if lead {
                Task { await self.leadCommits() }
            }
        }
    }

    private func leadCommits() async {
        while true {
            let batch: [PendingWrite] = state.withLock { s in
                let taken = s.pending
                s.pending = []
                if taken.isEmpty { s.committing = false }
                return taken
            }
            if batch.isEmpty { return }
            let writes = batch.map(\.samples)
            do {
                try await database.pool.writeWithoutTransaction { db in try self.journal(db, writes) }
                for write in batch { write.continuation.resume() }
            } catch {
                logger.error("metrics commit failed: \(error)")
                for write in batch {
                    write.continuation.resume(
                        throwing: MetricsError(
                            code: "InternalFailure", message: "could not store the data: \(error)", httpStatus: 503))
                }
            }
        }
    }

    // MARK: Flush

    /// Whether the head holds anything the next flush would write.
    public var headIsEmpty: Bool { state.withLock { $0.head.series.isEmpty } }

    /// Moves every head bucket into `points` (merging with stored buckets) and trims the journal.
    public func flush() async throws {
        let (generation, head, watermark) = state.withLock { s -> (Int64, Head, Int64) in
            s.generation += 1
            let head = s.head
            s.head = Head()
            s.flushing.append((s.generation, head, nil))
            return (s.generation, head, s.lastAppliedJournalID)
        }
        do {
            try await database.pool.write { db in
                try Self.mergeIntoPoints(
                    db, head.series.lazy.flatMap { id, buckets in buckets.lazy.map { (id, $0.key, $0.value) } })
                try db.execute(sql: "DELETE FROM journal WHERE id <= ?", arguments: [watermark])
                try db.execute(
                    sql: "UPDATE meta SET value = ? WHERE key = 'flushed_generation'", arguments: [generation])
            }
        } catch {
            // Put the buckets back so nothing is lost; the journal still holds them too.
            state.withLock { s in
                s.flushing.removeAll { $0.generation == generation }
                for (id, buckets) in head.series {
                    for (key, aggregate) in buckets {
                        s.head.series[id, default: [:]][key, default: Aggregate()].merge(aggregate)
                    }
                }
            }
            throw error
        }
        let now = clock()
        state.withLock { s in
            if let i = s.flushing.firstIndex(where: { $0.generation == generation }) { s.flushing[i].committedAt = now }
            // A reader whose snapshot predates this commit may still need the head; keep it a while.
            s.flushing.removeAll { entry in entry.committedAt.map { now - $0 > 30 } ?? false }
        }
    }

    /// Merges buckets into `points`, reading and rewriting the stored bucket where one exists.
    static func mergeIntoPoints(_ db: Database, _ buckets: some Sequence<(Int64, BucketKey, Aggregate)>) throws {
        let select = try db.cachedStatement(
            sql: "SELECT count, sum, min, max, dist FROM points WHERE series = ? AND res = ? AND ts = ?")
        let upsert = try db.cachedStatement(
            sql:
                "INSERT OR REPLACE INTO points (series, res, ts, count, sum, min, max, dist) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for (id, key, aggregate) in buckets {
            var merged = aggregate
            if let row = try Row.fetchOne(select, arguments: [id, key.resolution, key.start]) {
                var stored = try Aggregate.decode(row)
                stored.merge(aggregate)
                merged = stored
            }
            try upsert.execute(arguments: [
                id, key.resolution, key.start, merged.count, merged.sum, merged.min, merged.max,
                merged.encodedDistribution().map { Data($0) },
            ])
        }
    }

    // MARK: Listing

    /// Every series, optionally filtered by namespace and metric name.
    public func listMetrics(namespace: String? = nil, name: String? = nil) -> [SeriesInfo] {
        registry.all()
            .filter { (namespace == nil || $0.key.namespace == namespace) && (name == nil || $0.key.name == name) }
            .sorted {
                ($0.key.namespace, $0.key.name, $0.key.dimensionsText) < (
                    $1.key.namespace, $1.key.name, $1.key.dimensionsText
                )
            }
    }

    public func seriesInfo(_ key: SeriesKey) -> SeriesInfo? {
        registry.id(of: key).flatMap(registry.info)
    }
}

extension Aggregate {
    static func decode(_ row: Row) throws -> Aggregate {
        try decode(
            count: row["count"], sum: row["sum"], min: row["min"], max: row["max"],
            distribution: (row["dist"] as Data?).map { [UInt8]($0) })
    }
}
