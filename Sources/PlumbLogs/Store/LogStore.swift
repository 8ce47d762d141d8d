import Foundation
import GRDB
import GRDBSQLite
import PlumbMetrics
import PlumbStore
import Synchronization

/// Log groups, streams and events in `logs.sqlite`.
///
/// Events are kept in one table indexed by (group, timestamp, id): a search walks one group's time range in
/// order, in chunks, applying the filter pattern in memory, and stops at the limit or after a scan budget,
/// returning a token to continue.
public final class LogStore: Sendable {
    public let database: SQLiteStore
    /// Epoch milliseconds.
    public let clock: @Sendable () -> Int64
    /// Receives the samples the metric filters make of each batch, inside the batch's transaction (see `append`).
    let samples: (any MetricSampleSink)?
    /// Metric filters from the alert files and from the API; `active` is their union by group.
    private let filters = Mutex<(files: [MetricFilter], api: [MetricFilter], active: [String: [MetricFilter]])>(
        ([], [], [:]))

    /// Replaces the metric filters declared in alert files.
    public func setMetricFilters(_ list: [MetricFilter]) {
        filters.withLock { f in
            f.files = list
            f.active = Dictionary(grouping: f.files + f.api, by: \.group)
        }
    }

    /// Replaces the metric filters created through the API.
    public func setAPIMetricFilters(_ list: [MetricFilter]) {
        filters.withLock { f in
            f.api = list
            f.active = Dictionary(grouping: f.files + f.api, by: \.group)
        }
    }

    public var metricFilters: [(filter: MetricFilter, fromFile: Bool)] {
        filters.withLock { f in f.files.map { ($0, true) } + f.api.map { ($0, false) } }.sorted {
            $0.filter.name < $1.filter.name
        }
    }

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
            ])
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
        let active = filters.withLock { $0.active }
        let samples =
            active.isEmpty
            ? [] : batches.flatMap { batch in (active[batch.group] ?? []).flatMap { $0.samples(for: batch.events) } }
        let sink = self.samples
        try database.pool.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO log_events (group_id, stream, ts, ingested, message) VALUES (?, ?, ?, ?, ?)")
            for (group, stream, events) in batches where !events.isEmpty {
                let groupID = try Self.groupID(db, group, create: true, now: now)!
                try db.execute(
                    sql: """
                        INSERT INTO log_streams (group_id, name, created_at, last_event_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (group_id, name) DO UPDATE SET last_event_at = max(coalesce(last_event_at, 0), excluded.last_event_at)
                        """,
                    arguments: [groupID, stream, now, events.map(\.timestamp).max()])
                for event in events {
                    try insert.execute(arguments: [groupID, stream, event.timestamp, now, event.message])
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
                        (SELECT COALESCE(SUM(events), 0) FROM log_segments s WHERE s.group_id = g.id) AS archived,
                        (SELECT COALESCE(SUM(raw_bytes), 0) FROM log_segments s WHERE s.group_id = g.id) AS raw,
                        (SELECT COALESCE(SUM(compressed_bytes), 0) FROM log_segments s WHERE s.group_id = g.id) AS packed
                    FROM log_groups g ORDER BY g.name
                    """
            ).map {
                Group(
                    name: $0["name"], retentionDays: $0["retention_days"], createdAt: $0["created_at"],
                    storedEvents: ($0["n"] as Int) + ($0["archived"] as Int), archivedEvents: $0["archived"],
                    archiveRawBytes: $0["raw"], archiveCompressedBytes: $0["packed"])
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

    /// FilterLogEvents: events of one group in [start, end) matching the pattern, oldest (or newest) first.
    public func filter(_ query: LogQuery) throws -> Page {
        try database.pool.read { db in
            guard let groupID = try Self.groupID(db, query.group, create: false, now: 0) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(query.group)'")
            }
            var cursor = try query.token.map(Self.decodeToken)
            var events: [LogEvent] = []
            var scanned = 0
            let order = query.descending ? "DESC" : "ASC"
            // Written so that SQLite bounds the index range by ts: a row-value comparison would rescan from the start
            // of the group for every chunk, and so would two lower bounds (`ts >= start AND ts >= cursor`: SQLite
            // takes the first), so the tighter bound of each side is computed here and passed alone.
            let after = query.descending ? "(ts < ? OR id < ?)" : "(ts > ? OR id > ?)"
            // Term patterns run inside SQLite (instr), so only matching rows are read; the others filter in memory,
            // on the rows their pre-filter lets through.
            let exact = query.pattern?.sqlCondition
            let pushed = exact ?? query.pattern?.sqlPrefilter
            let extra = pushed.map { " AND " + $0.sql } ?? ""
            let extraArguments = StatementArguments(pushed?.arguments ?? [])
            let first = try db.cachedStatement(
                sql:
                    "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND ts >= ? AND ts < ?\(extra) ORDER BY ts \(order), id \(order) LIMIT ?"
            )
            let next = try db.cachedStatement(
                sql:
                    "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND ts >= ? AND ts < ? AND \(after)\(extra) ORDER BY ts \(order), id \(order) LIMIT ?"
            )
            let matcher = exact == nil ? query.pattern : nil
            var scratch = FilterScratch()
            // Archived segments hold the oldest events: read them before the table (after it when newest first).
            let segments = try self.segments(groupID: groupID, start: query.start, end: query.end, db: db)
            func scanSegments() throws -> Page? {
                for segment in query.descending ? segments.reversed() : segments {
                    var archived = try Self.readSegment(
                        path: segment.path, rawBytes: segment.rawBytes, group: query.group)
                    if query.descending { archived.reverse() }
                    for event in archived where event.timestamp >= query.start && event.timestamp < query.end {
                        if let (ts, id) = cursor {
                            let after =
                                query.descending
                                ? (event.timestamp, event.id) < (ts, id) : (event.timestamp, event.id) > (ts, id)
                            guard after else { continue }
                        }
                        scanned += 1
                        cursor = (event.timestamp, event.id)
                        if let prefix = query.streamPrefix, !event.stream.hasPrefix(prefix) { continue }
                        if let pattern = query.pattern, !pattern.matches(event.message) { continue }
                        events.append(event)
                        if events.count == query.limit {
                            return Page(
                                events: events, nextToken: Self.encodeToken(event.timestamp, event.id), scanned: scanned
                            )
                        }
                    }
                }
                return nil
            }
            if !query.descending, let page = try scanSegments() { return page }
            while scanned < Self.scanBudget {
                let statement = cursor == nil ? first : next
                let rows: RowCursor
                if let (ts, id) = cursor {
                    rows = try Row.fetchCursor(
                        next,
                        arguments: [
                            groupID, query.descending ? query.start : max(query.start, ts),
                            query.descending ? min(query.end, ts &+ 1) : query.end, ts, id,
                        ] + extraArguments + [Self.scanChunk])
                } else {
                    rows = try Row.fetchCursor(
                        first, arguments: [groupID, query.start, query.end] + extraArguments + [Self.scanChunk])
                }
                var read = 0
                // Columns by index: id, stream, ts, ingested, message. The message is matched where SQLite holds it;
                // strings are made only for the events returned.
                let raw = statement.sqliteStatement
                while try rows.next() != nil {
                    read += 1
                    scanned += 1
                    let ts = sqlite3_column_int64(raw, 2)
                    let id = sqlite3_column_int64(raw, 0)
                    cursor = (ts, id)
                    if let prefix = query.streamPrefix, !Self.text(raw, 1).hasPrefix(prefix) { continue }
                    if let matcher {
                        let length = Int(sqlite3_column_bytes(raw, 4))
                        let bytes = UnsafeRawBufferPointer(start: sqlite3_column_text(raw, 4), count: length)
                        guard matcher.matches(bytes, scratch: &scratch) else { continue }
                    }
                    events.append(
                        LogEvent(
                            id: id, group: query.group, stream: Self.text(raw, 1), timestamp: ts,
                            ingestionTime: sqlite3_column_int64(raw, 3), message: Self.text(raw, 4)))
                    if events.count == query.limit {
                        return Page(events: events, nextToken: Self.encodeToken(ts, id), scanned: scanned)
                    }
                }
                if read < Self.scanChunk {
                    if query.descending, let page = try scanSegments() { return page }
                    return Page(events: events, nextToken: nil, scanned: scanned)
                }
            }
            return Page(events: events, nextToken: cursor.map { Self.encodeToken($0.0, $0.1) }, scanned: scanned)
        }
    }

    /// Events of a group stored after event id `after`, in storage order (for following a group live).
    public func events(in group: String, after: Int64, limit: Int = 1_000) throws -> [LogEvent] {
        try database.pool.read { db in
            guard let groupID = try Self.groupID(db, group, create: false, now: 0) else { return [] }
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND id > ? ORDER BY id LIMIT ?",
                arguments: [groupID, after, limit]
            ).map {
                LogEvent(
                    id: $0["id"], group: group, stream: $0["stream"], timestamp: $0["ts"],
                    ingestionTime: $0["ingested"], message: $0["message"])
            }
        }
    }

    /// The newest event id stored (0 when none).
    public func lastEventID() throws -> Int64 {
        try database.pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM log_events") ?? 0 }
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

    static func encodeToken(_ ts: Int64, _ id: Int64) -> String { "\(ts).\(id)" }

    static func decodeToken(_ token: String) throws -> (Int64, Int64) {
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
