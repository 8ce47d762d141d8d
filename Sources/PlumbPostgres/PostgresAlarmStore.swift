import Logging
import PlumbAPI
import PlumbAlarms
import PostgresNIO

/// The alarm contract on PostgreSQL (`storage.state: postgres`): alarm states, alarms created through the API, their
/// history and the silences, shared by every node of a cluster.
///
/// Every write takes the next value of the one-row counter `alarm_revision` in its transaction and stamps the alarm
/// rows it writes with it; the row lock orders the writers, so revisions are in commit order and a node that has
/// read revision N has seen every write up to N (`AlarmEngine.refresh`).
public final class PostgresAlarmStore: AlarmStoring, Sendable {
    public let database: PostgresStore
    let logger: Logger
    public var isShared: Bool { true }

    /// The alarm area's schema, version by version (documented in docs/postgres-schema.md).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE alarms (name text PRIMARY KEY, document text, state text NOT NULL, reason text NOT NULL,
                    reason_data text, updated_at bigint NOT NULL, revision bigint NOT NULL)
                """,
                """
                CREATE TABLE alarm_history (id bigserial PRIMARY KEY, alarm text NOT NULL, ts bigint NOT NULL,
                    type text NOT NULL, summary text NOT NULL, data text)
                """,
                "CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm, ts)",
                "CREATE INDEX alarm_history_by_time ON alarm_history (ts)",
                """
                CREATE TABLE silences (id text PRIMARY KEY, matcher_kind text NOT NULL, matcher text NOT NULL,
                    created_by text NOT NULL, comment text NOT NULL, starts_at bigint NOT NULL, ends_at bigint NOT NULL,
                    created_at bigint NOT NULL, expired_by text)
                """,
                "CREATE INDEX silences_by_end ON silences (ends_at)",
                """
                CREATE TABLE alarm_revision (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                    value bigint NOT NULL)
                """,
                "INSERT INTO alarm_revision (value) VALUES (0)",
            ])
    ]

    init(database: PostgresStore, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The store on `database`, its schema migrated to this release's.
    public static func open(
        database: PostgresStore, logger: Logger = Logger(label: "plumb.alarms")
    ) async throws -> PostgresAlarmStore {
        try await database.migrate(area: "alarms", migrations)
        return PostgresAlarmStore(database: database, logger: logger)
    }

    public func load() async throws -> AlarmSnapshot {
        let logger = self.logger
        return try await database.transaction { connection in
            // One snapshot for the three reads.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            let revision = try await Self.revision(connection, logger: logger)
            var records: [String: AlarmRecord] = [:]
            let rows = try await connection.query(
                "SELECT name, document, state, reason, reason_data, updated_at, revision FROM alarms", logger: logger
            ).decode((String, String?, String, String, String?, Int64, Int64).self)
            for try await (name, document, state, reason, reasonData, updatedAt, revision) in rows {
                records[name] = AlarmRecord(
                    name: name, document: document, state: AlarmState(rawValue: state) ?? .insufficientData,
                    reason: reason, reasonData: reasonData, updatedAt: updatedAt, revision: revision)
            }
            var silences: [Silence] = []
            let silenceRows = try await connection.query(
                """
                SELECT id, matcher_kind, matcher, created_by, comment, starts_at, ends_at, created_at, expired_by
                FROM silences ORDER BY created_at, id
                """, logger: logger
            ).decode((String, String, String, String, String, Int64, Int64, Int64, String?).self)
            for try await (id, kind, text, createdBy, comment, startsAt, endsAt, createdAt, expiredBy) in silenceRows {
                silences.append(
                    Silence(
                        id: id, matcher: kind == "alarm" ? .alarm(text) : .pattern(text), createdBy: createdBy,
                        comment: comment, startsAt: startsAt, endsAt: endsAt, createdAt: createdAt,
                        expiredBy: expiredBy))
            }
            return AlarmSnapshot(revision: revision, records: records, silences: silences)
        }
    }

    public func revision() async throws -> Int64 {
        let logger = self.logger
        return try await database.run { connection in try await Self.revision(connection, logger: logger) }
    }

    @discardableResult
    public func save(_ records: [AlarmRecord], history: [AlarmHistoryEntry], deleting: [String]) async throws -> Int64 {
        let logger = self.logger
        return try await database.transaction { connection in
            let revision = try await Self.bump(connection, logger: logger)
            if !deleting.isEmpty {
                try await connection.query("DELETE FROM alarms WHERE name = ANY(\(deleting))", logger: logger)
            }
            if !records.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO alarms (name, document, state, reason, reason_data, updated_at, revision)
                    SELECT n, CASE WHEN hd THEN d END, s, r, CASE WHEN hrd THEN rd END, u, \(revision)
                    FROM unnest(\(records.map(\.name))::text[], \(records.map { $0.document ?? "" })::text[],
                        \(records.map { $0.document != nil })::boolean[], \(records.map(\.state.rawValue))::text[],
                        \(records.map(\.reason))::text[], \(records.map { $0.reasonData ?? "" })::text[],
                        \(records.map { $0.reasonData != nil })::boolean[], \(records.map(\.updatedAt))::bigint[])
                        AS r (n, d, hd, s, r, rd, hrd, u)
                    ON CONFLICT (name) DO UPDATE SET document = excluded.document, state = excluded.state,
                        reason = excluded.reason, reason_data = excluded.reason_data,
                        updated_at = excluded.updated_at, revision = excluded.revision
                    """, logger: logger)
            }
            if !history.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO alarm_history (alarm, ts, type, summary, data)
                    SELECT a, t, ty, s, CASE WHEN hd THEN d END
                    FROM unnest(\(history.map(\.alarm))::text[], \(history.map(\.item.timestamp))::bigint[],
                        \(history.map(\.item.type))::text[], \(history.map(\.item.summary))::text[],
                        \(history.map { $0.item.data ?? "" })::text[], \(history.map { $0.item.data != nil })::boolean[])
                        WITH ORDINALITY AS h (a, t, ty, s, d, hd, o)
                    ORDER BY o
                    """, logger: logger)
            }
            return revision
        }
    }

    public func history(
        of alarm: String, type: String?, limit: Int, before: Int64?
    ) async throws -> [AlarmHistoryItem] {
        let logger = self.logger
        return try await database.run { connection in
            var items: [AlarmHistoryItem] = []
            let rows = try await connection.query(
                """
                SELECT ts, type, summary, data FROM alarm_history
                WHERE alarm = \(alarm) AND (\(type)::text IS NULL OR type = \(type)::text)
                    AND (\(before)::bigint IS NULL OR ts < \(before)::bigint)
                ORDER BY ts DESC, id DESC LIMIT \(limit)
                """, logger: logger
            ).decode((Int64, String, String, String?).self)
            for try await (ts, type, summary, data) in rows {
                items.append(AlarmHistoryItem(type: type, timestamp: ts, summary: summary, data: data))
            }
            return items
        }
    }

    @discardableResult
    public func pruneHistory(now: Int64) async throws -> Int {
        let logger = self.logger
        let cutoff = now - AlarmHistoryItem.retention
        return try await database.run { connection in
            try await Self.count(
                connection.query(
                    "WITH gone AS (DELETE FROM alarm_history WHERE ts < \(cutoff) RETURNING 1) SELECT count(*) FROM gone",
                    logger: logger))
        }
    }

    @discardableResult
    public func save(_ silence: Silence) async throws -> Int64 {
        let logger = self.logger
        return try await database.transaction { connection in
            let revision = try await Self.bump(connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO silences (id, matcher_kind, matcher, created_by, comment, starts_at, ends_at, created_at,
                    expired_by)
                VALUES (\(silence.id), \(silence.matcher.kind), \(silence.matcher.text), \(silence.createdBy),
                    \(silence.comment), \(silence.startsAt), \(silence.endsAt), \(silence.createdAt),
                    \(silence.expiredBy))
                ON CONFLICT (id) DO UPDATE SET ends_at = LEAST(silences.ends_at, excluded.ends_at),
                    expired_by = COALESCE(silences.expired_by, excluded.expired_by)
                """, logger: logger)
            return revision
        }
    }

    @discardableResult
    public func pruneSilences(endedBefore before: Int64) async throws -> Int {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.count(
                connection.query(
                    "WITH gone AS (DELETE FROM silences WHERE ends_at < \(before) RETURNING 1) SELECT count(*) FROM gone",
                    logger: logger))
        }
    }

    static func revision(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await value in try await connection.query("SELECT value FROM alarm_revision", logger: logger).decode(
            Int64.self)
        {
            return value
        }
        return 0
    }

    /// The next revision; the row stays locked until the caller's transaction ends.
    static func bump(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await value in try await connection.query(
            "UPDATE alarm_revision SET value = value + 1 RETURNING value", logger: logger
        ).decode(Int64.self) {
            return value
        }
        throw PostgresSchemaError("the alarm_revision row is missing")
    }

    /// The one count a `SELECT count(*)` answers.
    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        for try await value in rows.decode(Int64.self) { return Int(clamping: value) }
        return 0
    }
}
