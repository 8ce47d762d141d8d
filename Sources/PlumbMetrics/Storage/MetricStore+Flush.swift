import Foundation
import GRDB
import PlumbAPI
import PlumbStore

/// Where a stream's newest chunk is, and how many samples its chunks should hold.
struct ChunkRef: Sendable {
    var start: Int64
    var id: Int64
    var count: Int
    var bytes: Int
    /// Samples per chunk that fill about `ChunkLayout.rowBytes`, learnt from the stream's last sealed chunk.
    var target: Int
}

/// The chunk rows' sizes.
enum ChunkLayout {
    /// A chunk's bytes: a row of a `WITHOUT ROWID` table on a 4 KiB page keeps about 1,000 bytes of payload in the
    /// b-tree leaf; anything beyond spills to an overflow page of its own, mostly empty.
    static let rowBytes = 960
    /// A chunk spans less than a day, so a read for `[start, end)` looks for chunks starting after `start - maxSpan`.
    static let maxSpan: Int64 = 86_400
    static let initialTarget = 240
}

extension MetricStore {
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
        },
        // Raw samples in compressed chunks; the journal moves to files (the `journal` table is drained at the first
        // flush after an upgrade and stays empty).
        Migration("metrics-v2-chunks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE chunks (series INTEGER NOT NULL, res INTEGER NOT NULL, start INTEGER NOT NULL,
                        id INTEGER NOT NULL, last INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
                        PRIMARY KEY (series, res, start, id)) WITHOUT ROWID;
                    CREATE INDEX chunks_by_age ON chunks (res, last);
                    INSERT INTO meta VALUES ('journal_through', 0), ('next_chunk', 1);
                    """)
        },
    ]

    /// Applies the `journal` table of a store written by a release before the file journal, into the head.
    func replayLegacyJournal(count: Int) throws {
        logger.info("upgrading: replaying \(count) entries of the earlier release's journal")
        var done = 0
        try database.pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT body FROM journal ORDER BY id")
            while let row = try rows.next() {
                let samples = try JournalCodec.decode([UInt8](row["body"] as Data))
                var singles: [ResolvedSample] = []
                var aggregated: [ResolvedSample] = []
                for sample in samples {
                    if case .single = sample.value { singles.append(sample) } else { aggregated.append(sample) }
                }
                var runs = SampleRuns()
                for sample in singles {
                    guard case .single(let value) = sample.value else { continue }
                    runs.streams.append(StreamKey.make(series: sample.series, resolution: sample.resolution))
                    runs.timestamps.append(sample.timestamp)
                    runs.values.append(value)
                    runs.ends.append(runs.timestamps.count)
                }
                head.apply(runs, aggregated: aggregated, segment: 0)
                headSamples.add(runs.sampleCount, ordering: .relaxed)
                done += 1
                if done % 10_000 == 0 { logger.info("upgrading: \(done) of \(count) journal entries replayed") }
            }
        }
    }

    // MARK: Flush

    /// Runs `body` as the only flush or rollup under way.
    func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        while !state.withLock({ s in
            if s.flushRunning { return false }
            s.flushRunning = true
            return true
        }) {
            try await Task.sleep(for: .milliseconds(2))
        }
        defer { state.withLock { $0.flushRunning = false } }
        return try await body()
    }

    /// Writes everything acknowledged so far into the database and deletes the journal segments it covered.
    public func flush() async throws {
        try await exclusively { try await flushLocked() }
    }

    func flushLocked() async throws {
        let closed = try await journal.rotate()
        await journal.waitApplied(through: closed)
        let (generation, taken) = state.withLock { s in
            // Taken and listed as flushing under the store's lock, which readers hold too: no reader sees neither.
            let taken = head.take(through: closed)
            headSamples.subtract(taken.sampleCount, ordering: .relaxed)
            flushingSamples.add(taken.sampleCount, ordering: .relaxed)
            s.generation += 1
            s.flushing.append(FlushingHead(generation: s.generation, taken: taken))
            return (s.generation, taken)
        }
        let definitions = registry.takeUnstored()
        let known = state.withLock { $0.lastChunks }
        let written: [Int64: ChunkRef]
        do {
            written = try await database.pool.write { db in
                for info in definitions {
                    try db.execute(
                        sql: """
                            INSERT INTO series (id, namespace, name, dims, unit) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT(id) DO UPDATE SET unit = excluded.unit
                            """,
                        arguments: [
                            info.id, info.key.namespace, info.key.name, info.key.dimensionsText, info.unit?.rawValue,
                        ])
                }
                var writer = try ChunkWriter(db, known: known)
                try taken.forEachStream { stream, buffer in try writer.write(stream, buffer) }
                try writer.finish()
                try Self.mergeIntoPoints(
                    db,
                    taken.parts.lazy.flatMap { part in
                        part.buckets.lazy.flatMap { id, buckets in buckets.lazy.map { (id, $0.key, $0.value) } }
                    })
                try db.execute(sql: "DELETE FROM journal")
                try db.execute(
                    sql: "UPDATE meta SET value = ? WHERE key = 'flushed_generation'", arguments: [generation])
                try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'journal_through'", arguments: [closed])
                return writer.refs
            }
        } catch {
            // Nothing is lost: the segments stay, and the samples go back to the head for readers and the next flush.
            state.withLock { s in
                s.flushing.removeAll { $0.generation == generation }
                head.restore(taken)
                headSamples.add(taken.sampleCount, ordering: .relaxed)
                flushingSamples.subtract(taken.sampleCount, ordering: .relaxed)
            }
            registry.restoreUnstored(definitions)
            throw error
        }
        do {
            try journal.remove(upTo: closed)
        } catch {
            logger.warning("could not delete flushed journal segments (they are skipped at the next start): \(error)")
        }
        flushingSamples.subtract(taken.sampleCount, ordering: .relaxed)
        state.withLock { s in
            for (stream, ref) in written { s.lastChunks[stream] = ref }
            s.committed = generation
            // A reader whose snapshot predates this commit still needs the head: it goes when that reader ends.
            s.pruneFlushing()
        }
    }

    /// Moves SQLite's write-ahead log into the database file and truncates it (at a graceful stop: the data directory
    /// is then as small as it gets).
    public func checkpoint() {
        do {
            try database.pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            logger.warning("metrics checkpoint failed (the log is applied at the next start): \(error)")
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
}

/// Writes the head's raw samples into chunk rows inside one flush transaction.
///
/// A stream's newest chunk is extended while it has room (read, merged, rewritten); samples beyond go to new chunks of
/// about `ChunkLayout.rowBytes` each. Chunks are sorted by time inside; out-of-order samples simply make chunks whose
/// ranges overlap, which reads handle.
struct ChunkWriter {
    let db: Database
    var known: [Int64: ChunkRef]
    var refs: [Int64: ChunkRef] = [:]
    var nextID: Int64
    let insert: Statement
    let remove: Statement
    let select: Statement
    let newest: Statement

    init(_ db: Database, known: [Int64: ChunkRef]) throws {
        self.db = db
        self.known = known
        nextID = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'next_chunk'") ?? 1
        insert = try db.cachedStatement(
            sql: "INSERT INTO chunks (series, res, start, id, last, count, data) VALUES (?, ?, ?, ?, ?, ?, ?)")
        remove = try db.cachedStatement(sql: "DELETE FROM chunks WHERE series = ? AND res = ? AND start = ? AND id = ?")
        select = try db.cachedStatement(
            sql: "SELECT data FROM chunks WHERE series = ? AND res = ? AND start = ? AND id = ?")
        newest = try db.cachedStatement(
            sql: """
                SELECT start, id, count, length(data) AS bytes FROM chunks WHERE series = ? AND res = ?
                ORDER BY start DESC, id DESC LIMIT 1
                """)
    }

    mutating func write(_ stream: Int64, _ buffer: SampleBuffer) throws {
        let series = StreamKey.series(stream)
        let resolution = StreamKey.resolution(stream)
        var (timestamps, values) = Self.sorted(buffer.timestamps, buffer.values)
        var ref = refs[stream] ?? known[stream]
        if ref == nil, let row = try Row.fetchOne(newest, arguments: [series, resolution]) {
            ref = ChunkRef(
                start: row["start"], id: row["id"], count: row["count"], bytes: row["bytes"],
                target: ChunkLayout.initialTarget)
        }
        var target = ref?.target ?? ChunkLayout.initialTarget
        if let old = ref, old.count < old.target, old.bytes < ChunkLayout.rowBytes,
            let data = try Data.fetchOne(select, arguments: [series, resolution, old.start, old.id])
        {
            let stored = try ChunkCodec.decode([UInt8](data))
            let lo = min(stored.timestamps.first ?? old.start, timestamps.first!)
            let hi = max(stored.timestamps.last ?? old.start, timestamps.last!)
            if hi - lo < ChunkLayout.maxSpan {
                (timestamps, values) = Self.merged(stored.timestamps, stored.values, timestamps, values)
                try remove.execute(arguments: [series, resolution, old.start, old.id])
            }
        }
        var last: ChunkRef?
        var i = 0
        while i < timestamps.count {
            var k = min(timestamps.count - i, target)
            // A chunk spans less than `maxSpan`: the first sample at or past it starts the next chunk.
            var lo = i + 1
            var hi = i + k
            while lo < hi {
                let mid = (lo + hi) / 2
                if timestamps[mid] - timestamps[i] >= ChunkLayout.maxSpan { hi = mid } else { lo = mid + 1 }
            }
            k = lo - i
            var data = ChunkCodec.encode(timestamps: Array(timestamps[i..<i + k]), values: Array(values[i..<i + k]))
            while data.count > ChunkLayout.rowBytes && k > 1 {
                k = max(1, min(k - 1, k * ChunkLayout.rowBytes * 9 / (data.count * 10)))
                data = ChunkCodec.encode(timestamps: Array(timestamps[i..<i + k]), values: Array(values[i..<i + k]))
            }
            let full = i + k < timestamps.count
            if full {
                // Learn how many samples fill a row for this stream's data.
                target = max(16, min(16_384, k * ChunkLayout.rowBytes * 9 / (max(data.count, 1) * 10)))
            }
            try insert.execute(arguments: [
                series, resolution, timestamps[i], nextID, timestamps[i + k - 1], k, Data(data),
            ])
            last = ChunkRef(start: timestamps[i], id: nextID, count: k, bytes: data.count, target: target)
            nextID += 1
            i += k
        }
        if var last {
            last.target = target
            refs[stream] = last
        }
    }

    func finish() throws {
        try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'next_chunk'", arguments: [nextID])
    }

    /// The samples in time order (a stable sort: equal times keep their arrival order).
    static func sorted(_ t: [Int64], _ v: [Double]) -> ([Int64], [Double]) {
        if zip(t, t.dropFirst()).allSatisfy({ $0 <= $1 }) { return (t, v) }
        let order = t.indices.sorted { (t[$0], $0) < (t[$1], $1) }
        return (order.map { t[$0] }, order.map { v[$0] })
    }

    /// Two time-ordered runs merged into one (the stored first at equal times).
    static func merged(_ t1: [Int64], _ v1: [Double], _ t2: [Int64], _ v2: [Double]) -> ([Int64], [Double]) {
        if let a = t1.last, let b = t2.first, a <= b { return (t1 + t2, v1 + v2) }
        var t: [Int64] = []
        var v: [Double] = []
        t.reserveCapacity(t1.count + t2.count)
        v.reserveCapacity(t1.count + t2.count)
        var i = 0
        var j = 0
        while i < t1.count || j < t2.count {
            if j >= t2.count || (i < t1.count && t1[i] <= t2[j]) {
                t.append(t1[i])
                v.append(v1[i])
                i += 1
            } else {
                t.append(t2[j])
                v.append(v2[j])
                j += 1
            }
        }
        return (t, v)
    }
}
