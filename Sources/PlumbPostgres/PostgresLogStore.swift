import Foundation
import Logging
import PlumbAPI
import PlumbLogs
import PlumbMetrics
import PostgresNIO

/// The log contract on PostgreSQL, shared by every node of a cluster (`storage.logs: postgres`).
///
/// - **Ids in commit order.** An append takes its event ids from one counter row (`log_ids`) with an `UPDATE …
///   RETURNING`; the row lock is held until the append commits, so appends from every node commit one after another
///   and a follower reading "after id N" never misses an event that commits later with a smaller id. That makes the
///   cluster's log appends one queue: each holds the row for its own round trips (about a millisecond on a LAN).
/// - **One statement per batch**: the events go in as arrays (`unnest`), so a batch of 10,000 is one round trip.
/// - **Search** reads one group's time range through the index on (group, ts, id) in chunks and matches the filter
///   pattern on each message's bytes as PostgreSQL sent them (the same byte matchers as the embedded store); nothing
///   is pushed down into SQL.
/// - **Metric filters**: the samples go to the sink inside the append's transaction, before the commit, as in the
///   embedded store; a sink that refuses them rolls the append back.
public final class PostgresLogStore: LogStoring, Sendable {
    public let database: PostgresStore
    public let clock: @Sendable () -> Int64
    let samples: (any MetricSampleSink)?
    let filters = MetricFilterSet()
    let logger: Logger

    /// Rows fetched per statement while searching.
    static let scanChunk = 2_000
    /// Rows a single search may examine before it returns a continuation token (the embedded store's budget).
    public static let scanBudget = 1_000_000

    /// The log area's schema, version by version (documented in docs/postgres-schema.md).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE log_groups (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, retention_days integer,
                    created_at bigint NOT NULL)
                """,
                """
                CREATE TABLE log_streams (group_id bigint NOT NULL REFERENCES log_groups (id) ON DELETE CASCADE,
                    name text NOT NULL, created_at bigint NOT NULL, last_event_at bigint, PRIMARY KEY (group_id, name))
                """,
                """
                CREATE TABLE log_events (id bigint PRIMARY KEY, group_id bigint NOT NULL, stream text NOT NULL,
                    ts bigint NOT NULL, ingested bigint NOT NULL, message text NOT NULL)
                """,
                "CREATE INDEX log_events_by_time ON log_events (group_id, ts, id)",
                "CREATE INDEX log_events_by_id ON log_events (group_id, id)",
                """
                CREATE TABLE log_ids (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    next_id bigint NOT NULL)
                """,
                "INSERT INTO log_ids (next_id) VALUES (1)",
                "CREATE TABLE log_metric_filters (name text PRIMARY KEY, document text NOT NULL)",
            ])
    ]

    init(
        database: PostgresStore, clock: @escaping @Sendable () -> Int64, samples: (any MetricSampleSink)?,
        logger: Logger
    ) {
        self.database = database
        self.clock = clock
        self.samples = samples
        self.logger = logger
    }

    /// The store on `database`, its schema migrated to this release's.
    public static func open(
        database: PostgresStore,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000) },
        samples: (any MetricSampleSink)? = nil, logger: Logger = Logger(label: "plumb.logs")
    ) async throws -> PostgresLogStore {
        try await database.migrate(area: "logs", migrations)
        return PostgresLogStore(database: database, clock: clock, samples: samples, logger: logger)
    }

    public func put(group: String, stream: String, events: [InputLogEvent]) async throws -> [Sample] {
        try LogLimits.checkGroupName(group)
        try LogLimits.checkStreamName(stream)
        try LogLimits.check(events, now: clock())
        return try await append([(group, stream, events)])
    }

    public func append(_ batches: [(group: String, stream: String, events: [InputLogEvent])]) async throws -> [Sample] {
        let now = clock()
        let samples = filters.samples(for: batches)
        let batches = batches.filter { !$0.events.isEmpty }
        let total = Int64(batches.reduce(0) { $0 + $1.events.count })
        let sink = self.samples
        let logger = self.logger
        try await database.transaction { connection in
            if total > 0 {
                var id: Int64 = 0
                // The row lock on the counter orders the appends of every node: see the type's description.
                for try await first in try await connection.query(
                    "UPDATE log_ids SET next_id = next_id + \(total) RETURNING next_id - \(total)", logger: logger
                ).decode(Int64.self) {
                    id = first
                }
                for (group, stream, events) in batches {
                    let groupID = try await Self.groupID(connection, group, create: true, now: now, logger: logger)!
                    let newest = events.map(\.timestamp).max()
                    try await connection.query(
                        """
                        INSERT INTO log_streams (group_id, name, created_at, last_event_at)
                        VALUES (\(groupID), \(stream), \(now), \(newest))
                        ON CONFLICT (group_id, name) DO UPDATE
                        SET last_event_at = GREATEST(COALESCE(log_streams.last_event_at, 0), excluded.last_event_at)
                        """, logger: logger)
                    let ids = (0..<Int64(events.count)).map { id + $0 }
                    try await connection.query(
                        """
                        INSERT INTO log_events (id, group_id, stream, ts, ingested, message)
                        SELECT i, \(groupID), \(stream), t, \(now), m
                        FROM unnest(\(ids)::bigint[], \(events.map(\.timestamp))::bigint[], \(events.map(\.message))::text[])
                            AS e (i, t, m)
                        """, logger: logger)
                    id += Int64(events.count)
                }
            }
            if let sink, !samples.isEmpty { try sink.append(samples) }
        }
        return samples
    }

    public func groups(prefix: String?) async throws -> [LogGroupSummary] {
        let logger = self.logger
        return try await database.run { connection in
            var groups: [LogGroupSummary] = []
            for try await (name, days, created, count, bytes) in try await connection.query(
                """
                SELECT g.name, g.retention_days, g.created_at,
                    (SELECT count(*) FROM log_events e WHERE e.group_id = g.id),
                    (SELECT COALESCE(sum(octet_length(e.message)), 0)::bigint FROM log_events e WHERE e.group_id = g.id)
                FROM log_groups g ORDER BY g.name COLLATE "C"
                """, logger: logger
            ).decode((String, Int?, Int64, Int64, Int64).self) {
                guard prefix.map(name.hasPrefix) ?? true else { continue }
                groups.append(
                    LogGroupSummary(
                        name: name, retentionDays: days, createdAt: created, storedEvents: Int(count),
                        storedBytes: Int(bytes)))
            }
            return groups
        }
    }

    public func createGroup(_ name: String) async throws -> Bool {
        try LogLimits.checkGroupName(name)
        let now = clock()
        let logger = self.logger
        return try await database.run { connection in
            var created = false
            for try await _ in try await connection.query(
                """
                INSERT INTO log_groups (name, created_at) VALUES (\(name), \(now)) ON CONFLICT (name) DO NOTHING
                RETURNING id
                """, logger: logger
            ).decode(Int64.self) {
                created = true
            }
            return created
        }
    }

    public func createStream(group: String, stream: String) async throws -> Bool {
        try LogLimits.checkStreamName(stream)
        let now = clock()
        let logger = self.logger
        return try await database.run { connection in
            guard let id = try await Self.groupID(connection, group, create: false, now: 0, logger: logger) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
            }
            var created = false
            for try await _ in try await connection.query(
                """
                INSERT INTO log_streams (group_id, name, created_at) VALUES (\(id), \(stream), \(now))
                ON CONFLICT (group_id, name) DO NOTHING RETURNING group_id
                """, logger: logger
            ).decode(Int64.self) {
                created = true
            }
            return created
        }
    }

    public func streams(group: String) async throws -> [LogStreamSummary] {
        let logger = self.logger
        return try await database.run { connection in
            guard let id = try await Self.groupID(connection, group, create: false, now: 0, logger: logger) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
            }
            var streams: [LogStreamSummary] = []
            for try await (name, created, last) in try await connection.query(
                """
                SELECT name, created_at, last_event_at FROM log_streams WHERE group_id = \(id)
                ORDER BY name COLLATE "C"
                """, logger: logger
            ).decode((String, Int64, Int64?).self) {
                streams.append(LogStreamSummary(name: name, createdAt: created, lastEventAt: last))
            }
            return streams
        }
    }

    public func filter(_ query: LogQuery) async throws -> LogPage {
        let logger = self.logger
        let cursor = try query.token.map(LogPageToken.decode)
        // A search returns what it has, with its token, once half the statement deadline has passed: a long scan is
        // pages the client continues, never a 503 that makes it start again.
        let timeout = database.settings.timeout
        let budget = ContinuousClock.now + timeout / 2
        return try await database.run { connection in
            guard let groupID = try await Self.groupID(connection, query.group, create: false, now: 0, logger: logger)
            else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(query.group)'")
            }
            var search = Search(query: query, cursor: cursor)
            while search.scanned < Self.scanBudget {
                // Without a pattern or a stream prefix every row is kept: read no more than the page still needs.
                let needed =
                    query.pattern == nil && query.streamPrefix == nil ? query.limit - search.events.count : .max
                let chunk = min(Self.scanChunk, Self.scanBudget - search.scanned, max(1, needed))
                let rows = try await connection.query(search.statement(groupID: groupID, chunk: chunk), logger: logger)
                var read = 0
                for try await row in rows {
                    read += 1
                    // The rest of a chunk after the page is full is drained, not examined: the connection goes back
                    // to the pool with nothing pending.
                    if !search.full { try search.examine(row) }
                }
                if search.full { return search.page(token: search.cursor) }
                if read < chunk { return search.page(token: nil) }
                if ContinuousClock.now >= budget { return search.page(token: search.cursor) }
            }
            return search.page(token: search.cursor)
        }
    }

    /// One search's state across its chunks.
    struct Search {
        let query: LogQuery
        var cursor: (ts: Int64, id: Int64)?
        var events: [PlumbLogs.LogEvent] = []
        var scanned = 0
        var scratch = FilterScratch()

        init(query: LogQuery, cursor: (ts: Int64, id: Int64)?) {
            self.query = query
            self.cursor = cursor
        }

        var full: Bool { events.count >= query.limit }

        func statement(groupID: Int64, chunk: Int) -> PostgresQuery {
            let order = query.descending ? "DESC" : "ASC"
            guard let cursor else {
                return """
                    SELECT id, stream, ts, ingested, message FROM log_events
                    WHERE group_id = \(groupID) AND ts >= \(query.start) AND ts < \(query.end)
                    ORDER BY ts \(unescaped: order), id \(unescaped: order) LIMIT \(chunk)
                    """
            }
            // A row-value comparison PostgreSQL turns into an index range on (group_id, ts, id).
            return """
                SELECT id, stream, ts, ingested, message FROM log_events
                WHERE group_id = \(groupID) AND ts >= \(query.start) AND ts < \(query.end)
                AND (ts, id) \(unescaped: query.descending ? "<" : ">") (\(cursor.ts), \(cursor.id))
                ORDER BY ts \(unescaped: order), id \(unescaped: order) LIMIT \(chunk)
                """
        }

        mutating func examine(_ row: PostgresRow) throws {
            let cells = row.makeRandomAccess()
            let id = try cells[0].decode(Int64.self)
            let ts = try cells[2].decode(Int64.self)
            scanned += 1
            cursor = (ts, id)
            let stream = try cells[1].decode(String.self)
            if let prefix = query.streamPrefix, !stream.hasPrefix(prefix) { return }
            if let pattern = query.pattern {
                guard let bytes = cells[4].bytes else { return }
                let matched = bytes.withUnsafeReadableBytes { pattern.matches($0, scratch: &scratch) }
                guard matched else { return }
            }
            events.append(
                PlumbLogs.LogEvent(
                    id: id, group: query.group, stream: stream, timestamp: ts,
                    ingestionTime: try cells[3].decode(Int64.self), message: try cells[4].decode(String.self)))
        }

        func page(token: (ts: Int64, id: Int64)?) -> LogPage {
            LogPage(
                events: events, nextToken: token.map { LogPageToken.encode(ts: $0.ts, id: $0.id) }, scanned: scanned)
        }
    }

    public func events(in group: String, after: Int64, limit: Int) async throws -> [PlumbLogs.LogEvent] {
        let logger = self.logger
        return try await database.run { connection in
            guard let groupID = try await Self.groupID(connection, group, create: false, now: 0, logger: logger) else {
                return []
            }
            var found: [PlumbLogs.LogEvent] = []
            for try await (id, stream, ts, ingested, message) in try await connection.query(
                """
                SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = \(groupID) AND id > \(after)
                ORDER BY id LIMIT \(limit)
                """, logger: logger
            ).decode((Int64, String, Int64, Int64, String).self) {
                found.append(
                    PlumbLogs.LogEvent(
                        id: id, group: group, stream: stream, timestamp: ts, ingestionTime: ingested, message: message))
            }
            return found
        }
    }

    public func lastEventID() async throws -> Int64 {
        let logger = self.logger
        return try await database.run { connection in
            for try await next in try await connection.query("SELECT next_id FROM log_ids", logger: logger).decode(
                Int64.self)
            {
                return next - 1
            }
            return 0
        }
    }

    public func setRetention(group: String, days: Int?) async throws {
        if let days, !LogStore.retentionDays.contains(days) {
            throw LogsError(
                "retention must be one of \(LogStore.retentionDays.map(String.init).joined(separator: ", ")) days, or null to never expire"
            )
        }
        let logger = self.logger
        let updated = try await database.run { connection -> Bool in
            var found = false
            for try await _ in try await connection.query(
                "UPDATE log_groups SET retention_days = \(days) WHERE name = \(group) RETURNING id", logger: logger
            ).decode(Int64.self) {
                found = true
            }
            return found
        }
        guard updated else {
            throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
        }
    }

    /// The group and its events in one transaction (its streams follow by the foreign key). It first takes the
    /// `log_ids` row, which every append holds until it commits, so no append to the group is in flight while its
    /// events are deleted (each statement after the lock sees every committed event). Ids come from `log_ids`, so
    /// none is given again.
    public func deleteGroup(_ name: String) async throws {
        let logger = self.logger
        let deleted = try await database.transaction { connection -> Bool in
            try await connection.query("SELECT next_id FROM log_ids FOR UPDATE", logger: logger)
            var id: Int64?
            for try await value in try await connection.query(
                "DELETE FROM log_groups WHERE name = \(name) RETURNING id", logger: logger
            ).decode(Int64.self) {
                id = value
            }
            guard let id else { return false }
            try await connection.query("DELETE FROM log_events WHERE group_id = \(id)", logger: logger)
            return true
        }
        guard deleted else {
            throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(name)'")
        }
    }

    public func applyRetention() async throws -> Int {
        let now = clock()
        let logger = self.logger
        // Only CloudWatch's values are ever stored (`setRetention`); anything else is ignored, as in the embedded store.
        let allowed = LogStore.retentionDays
        return try await database.run { connection in
            var expired = 0
            for try await count in try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM log_events e USING log_groups g
                    WHERE e.group_id = g.id AND g.retention_days = ANY(\(allowed)::integer[])
                    AND e.ts < \(now) - g.retention_days::bigint * 86400000
                    RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger
            ).decode(Int64.self) {
                expired = Int(count)
            }
            return expired
        }
    }

    public var metricFilters: [(filter: MetricFilter, fromFile: Bool)] { filters.all }
    public func setMetricFilters(_ list: [MetricFilter]) { filters.setFromFiles(list) }
    public func setAPIMetricFilters(_ list: [MetricFilter]) { filters.setFromAPI(list) }

    public func storedMetricFilterDocuments() async throws -> [String: String] {
        let logger = self.logger
        return try await database.run { connection in
            var documents: [String: String] = [:]
            for try await (name, document) in try await connection.query(
                "SELECT name, document FROM log_metric_filters", logger: logger
            ).decode((String, String).self) {
                documents[name] = document
            }
            return documents
        }
    }

    public func storeMetricFilterDocument(name: String, document: String?) async throws {
        let logger = self.logger
        try await database.run { connection in
            if let document {
                try await connection.query(
                    """
                    INSERT INTO log_metric_filters (name, document) VALUES (\(name), \(document))
                    ON CONFLICT (name) DO UPDATE SET document = excluded.document
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM log_metric_filters WHERE name = \(name)", logger: logger)
            }
        }
    }

    static func groupID(
        _ connection: PostgresConnection, _ name: String, create: Bool, now: Int64, logger: Logger
    )
        async throws -> Int64?
    {
        if create {
            try await connection.query(
                "INSERT INTO log_groups (name, created_at) VALUES (\(name), \(now)) ON CONFLICT (name) DO NOTHING",
                logger: logger)
        }
        for try await id in try await connection.query("SELECT id FROM log_groups WHERE name = \(name)", logger: logger)
            .decode(Int64.self)
        {
            return id
        }
        return nil
    }
}
