import Foundation
import GRDB
import GRDBSQLite
import PlumbMetrics
import PlumbStore
import Synchronization

/// Log groups, streams and events in `logs.sqlite`.
///
/// New events land in a table indexed by (group, timestamp, id); a group's older events are sealed into
/// compressed blocks (`LogBlock`, see `seal`). A search merges the two in (timestamp, id) order over one group's
/// time range, matching the filter pattern on the messages' bytes where they lie, and stops at the limit or after a
/// scan budget, returning a token to continue. Event ids only grow: they are assigned here, not by SQLite, which
/// would reuse the ids of sealed rows once the table is empty.
public final class LogStore: Sendable {
    public let database: SQLiteStore
    /// Epoch milliseconds.
    public let clock: @Sendable () -> Int64
    /// Receives the samples the metric filters make of each batch, inside the batch's transaction (see `append`).
    let samples: (any MetricSampleSink)?
    /// The id the next event gets.
    private let nextEventID: Mutex<Int64>
    /// Metric filters from the alert files and from the API.
    let filters = MetricFilterSet()

    /// Replaces the metric filters declared in alert files.
    public func setMetricFilters(_ list: [MetricFilter]) { filters.setFromFiles(list) }

    /// Replaces the metric filters created through the API.
    public func setAPIMetricFilters(_ list: [MetricFilter]) { filters.setFromAPI(list) }

    public var metricFilters: [(filter: MetricFilter, fromFile: Bool)] { filters.all }

    /// API-created metric filters as stored: name → JSON document.
    public func storedMetricFilterDocuments() throws -> [String: String] {
        try database.pool.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, document FROM metric_filters").map {
                    ($0["name"], $0["document"])
                })
        }
    }

    public func storeMetricFilterDocument(name: String, document: String?) throws {
        try database.pool.write { db in
            if let document {
                try db.execute(
                    sql:
                        "INSERT INTO metric_filters (name, document) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET document = excluded.document",
                    arguments: [name, document])
            } else {
                try db.execute(sql: "DELETE FROM metric_filters WHERE name = ?", arguments: [name])
            }
        }
    }

    public typealias Group = LogGroupSummary
    public typealias Stream = LogStreamSummary
    public typealias Page = LogPage

    /// Rows read per statement while searching.
    static let scanChunk = 5_000
    /// Rows a single search request may scan before it returns a continuation token.
    public static let scanBudget = 1_000_000

    /// - Parameter samples: where the metric filters' samples go; nil: they are only returned (a store without metrics).
    public init(
        directory: String, durability: Durability,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) },
        samples: (any MetricSampleSink)? = nil
    ) throws {
        self.clock = clock
        self.samples = samples
        database = try SQLiteStore(
            path: directory + "/logs.sqlite", durability: durability,
            migrations: [
                Migration("logs-1") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE log_groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, retention_days INTEGER,
                                created_at INTEGER NOT NULL);
                            CREATE TABLE log_streams (group_id INTEGER NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
                                last_event_at INTEGER, PRIMARY KEY (group_id, name)) WITHOUT ROWID;
                            CREATE TABLE log_events (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, stream TEXT NOT NULL,
                                ts INTEGER NOT NULL, ingested INTEGER NOT NULL, message TEXT NOT NULL);
                            CREATE INDEX log_events_by_time ON log_events (group_id, ts, id);
                            """)
                },
                Migration("logs-2-segments") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE log_segments (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, path TEXT NOT NULL,
                                min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, events INTEGER NOT NULL,
                                raw_bytes INTEGER NOT NULL, compressed_bytes INTEGER NOT NULL);
                            CREATE INDEX log_segments_by_time ON log_segments (group_id, min_ts);
                            """)
                },
                Migration("logs-3-metric-filters") { db in
                    try db.execute(sql: "CREATE TABLE metric_filters (name TEXT PRIMARY KEY, document TEXT NOT NULL)")
                },
                Migration("logs-4-blocks") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE log_blocks (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL,
                                first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, min_ts INTEGER NOT NULL,
                                max_ts INTEGER NOT NULL, events INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,
                                data BLOB NOT NULL);
                            CREATE INDEX log_blocks_by_time ON log_blocks (group_id, min_ts);
                            CREATE INDEX log_blocks_by_id ON log_blocks (group_id, last_id);
                            CREATE TABLE log_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                            """)
                },
            ])
        nextEventID = Mutex(0)
        try convertSegments()
        let last = try max(
            lastEventID(),
            database.pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT value FROM log_meta WHERE key = 'highest_id'") ?? 0
            })
        nextEventID.withLock { $0 = last + 1 }
    }

    public func createGroup(_ name: String) throws -> Bool {
        try LogLimits.checkGroupName(name)
        let now = clock()
        return try database.pool.write { db in
            guard try Self.groupID(db, name, create: false, now: now) == nil else { return false }
            _ = try Self.groupID(db, name, create: true, now: now)
            return true
        }
    }

    public func createStream(group: String, stream: String) throws -> Bool {
        try LogLimits.checkStreamName(stream)
        let now = clock()
        return try database.pool.write { db in
            guard let id = try Self.groupID(db, group, create: false, now: now) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
            }
            try db.execute(
                sql: """
                    INSERT INTO log_streams (group_id, name, created_at, last_event_at) VALUES (?, ?, ?, NULL)
                    ON CONFLICT (group_id, name) DO NOTHING
                    """, arguments: [id, stream, now])
            return db.changesCount == 1
        }
    }

    /// Appends a batch (validated as PutLogEvents does) to a stream, creating the group and stream on first use.
    /// Returns once the batch is committed, with the samples the group's metric filters made of it.
    @discardableResult
    public func put(group: String, stream: String, events: [InputLogEvent]) throws -> [Sample] {
        try LogLimits.checkGroupName(group)
        try LogLimits.checkStreamName(stream)
        let now = clock()
        try LogLimits.check(events, now: now)
        return try append([(group, stream, events)])
    }

    /// Appends already-checked batches for several streams in one transaction (the process's own logs); returns the
    /// samples the metric filters made of them.
    ///
    /// The samples go to the sink inside the log transaction, after the events are inserted and before the commit:
    /// when the sink refuses them the transaction rolls back and the whole batch is refused, so no event is stored
    /// whose samples are missing. The order leaves one window open, narrower than the old one: the samples are
    /// durable and then the log commit itself fails (a full disk, a crash at that instant); that costs a sample
    /// without its event, never silently an event without its sample, and the caller sees the failure and may retry.
    /// The two stores are separate SQLite files in WAL mode, where SQLite offers no atomic commit across files.
    @discardableResult
    public func append(_ batches: [(group: String, stream: String, events: [InputLogEvent])]) throws -> [Sample] {
        let now = clock()
        let samples = filters.samples(for: batches)
        let sink = self.samples
        try database.pool.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO log_events (id, group_id, stream, ts, ingested, message) VALUES (?, ?, ?, ?, ?, ?)")
            // Inside the write transaction, so ids are taken in commit order; a rolled-back batch leaves a gap.
            var id = nextEventID.withLock { next in
                defer { next += Int64(batches.reduce(0) { $0 + $1.events.count }) }
                return next
            }
            for (group, stream, events) in batches where !events.isEmpty {
                let groupID = try Self.groupID(db, group, create: true, now: now)!
                try db.execute(
                    sql: """
                        INSERT INTO log_streams (group_id, name, created_at, last_event_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (group_id, name) DO UPDATE SET last_event_at = max(coalesce(last_event_at, 0), excluded.last_event_at)
                        """,
                    arguments: [groupID, stream, now, events.map(\.timestamp).max()])
                for event in events {
                    try insert.execute(arguments: [id, groupID, stream, event.timestamp, now, event.message])
                    id += 1
                }
            }
            if let sink, !samples.isEmpty { try sink.append(samples) }
        }
        return samples
    }

    public func groups(prefix: String? = nil) throws -> [Group] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT g.name, g.retention_days, g.created_at, (SELECT COUNT(*) FROM log_events e WHERE e.group_id = g.id) AS n,
                        (SELECT COALESCE(SUM(length(CAST(e.message AS BLOB))), 0) FROM log_events e WHERE e.group_id = g.id) AS bytes,
                        (SELECT COALESCE(SUM(events), 0) FROM log_blocks b WHERE b.group_id = g.id) AS sealed,
                        (SELECT COALESCE(SUM(raw_bytes), 0) FROM log_blocks b WHERE b.group_id = g.id) AS raw,
                        (SELECT COALESCE(SUM(length(data)), 0) FROM log_blocks b WHERE b.group_id = g.id) AS packed
                    FROM log_groups g ORDER BY g.name
                    """
            ).map {
                Group(
                    name: $0["name"], retentionDays: $0["retention_days"], createdAt: $0["created_at"],
                    storedEvents: ($0["n"] as Int) + ($0["sealed"] as Int), archivedEvents: $0["sealed"],
                    archiveRawBytes: $0["raw"], archiveCompressedBytes: $0["packed"],
                    storedBytes: ($0["bytes"] as Int) + ($0["packed"] as Int))
            }
            .filter { prefix == nil || $0.name.hasPrefix(prefix!) }
        }
    }

    public func streams(group: String) throws -> [Stream] {
        try database.pool.read { db in
            guard let id = try Self.groupID(db, group, create: false, now: 0) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
            }
            return try Row.fetchAll(
                db, sql: "SELECT name, created_at, last_event_at FROM log_streams WHERE group_id = ? ORDER BY name",
                arguments: [id]
            )
            .map { Stream(name: $0["name"], createdAt: $0["created_at"], lastEventAt: $0["last_event_at"]) }
        }
    }

    /// The id the next event gets (ids are taken inside write transactions, so inside one this is exact).
    func nextEventIDNow() -> Int64 { nextEventID.withLock { $0 } }

    /// Records the highest id given so far, which survives the deletion of every event (retention).
    func rememberHighestID() throws {
        let highest = nextEventIDNow() - 1
        try database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO log_meta (key, value) VALUES ('highest_id', ?)
                    ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
                    """,
                arguments: [highest])
        }
    }

    static func groupID(_ db: Database, _ name: String, create: Bool, now: Int64) throws -> Int64? {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM log_groups WHERE name = ?", arguments: [name]) {
            return id
        }
        guard create else { return nil }
        try db.execute(sql: "INSERT INTO log_groups (name, created_at) VALUES (?, ?)", arguments: [name, now])
        return db.lastInsertedRowID
    }

    /// A text column of the current row of a stepped statement.
    static func text(_ statement: OpaquePointer?, _ column: Int32) -> String {
        let length = Int(sqlite3_column_bytes(statement, column))
        guard let text = sqlite3_column_text(statement, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }

    static func encodeToken(_ ts: Int64, _ id: Int64) -> String { LogPageToken.encode(ts: ts, id: id) }

    static func decodeToken(_ token: String) throws -> (Int64, Int64) { try LogPageToken.decode(token) }
}

/// The continuation token of a search page: the (timestamp, id) of the last event examined, as every backend
/// writes it.
public enum LogPageToken {
    public static func encode(ts: Int64, id: Int64) -> String { "\(ts).\(id)" }

    public static func decode(_ token: String) throws -> (ts: Int64, id: Int64) {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let ts = Int64(parts[0]), let id = Int64(parts[1]) else {
            throw LogsError("next: the pagination token is not one this server issued")
        }
        return (ts, id)
    }
}

/// A FilterLogEvents request.
public struct LogQuery: Sendable {
    public var group: String
    public var pattern: FilterPattern?
    /// Epoch milliseconds, inclusive.
    public var start: Int64
    /// Epoch milliseconds, exclusive.
    public var end: Int64
    public var streamPrefix: String?
    public var limit: Int
    public var descending: Bool
    public var token: String?

    public init(
        group: String, pattern: FilterPattern? = nil, start: Int64 = 0, end: Int64 = .max, streamPrefix: String? = nil,
        limit: Int = 100, descending: Bool = false, token: String? = nil
    ) {
        self.group = group
        self.pattern = pattern
        self.start = start
        self.end = end
        self.streamPrefix = streamPrefix
        self.limit = limit
        self.descending = descending
        self.token = token
    }
}
