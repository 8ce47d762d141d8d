import Foundation
import GRDB
import PlumbStore

/// The embedded alarm store: states, API-defined alarms, the 14-day history and silences, in `alarms.sqlite`.
public final class AlarmStore: AlarmStoring {
    public let database: SQLiteStore
    public var isShared: Bool { false }

    public init(directory: String, durability: Durability) throws {
        database = try SQLiteStore(
            path: directory + "/alarms.sqlite", durability: durability,
            migrations: [
                Migration("alarms-1") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE alarms (
                                name TEXT PRIMARY KEY, document TEXT, state TEXT NOT NULL, reason TEXT NOT NULL,
                                reason_data TEXT, updated_at INTEGER NOT NULL);
                            CREATE TABLE alarm_history (
                                id INTEGER PRIMARY KEY, alarm TEXT NOT NULL, ts INTEGER NOT NULL, type TEXT NOT NULL,
                                summary TEXT NOT NULL, data TEXT);
                            CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm, ts);
                            CREATE INDEX alarm_history_by_time ON alarm_history (ts);
                            """)
                },
                Migration("alarms-2-silences") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE silences (
                                id TEXT PRIMARY KEY, matcher_kind TEXT NOT NULL, matcher TEXT NOT NULL, created_by TEXT NOT NULL,
                                comment TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
                                created_at INTEGER NOT NULL, expired_by TEXT);
                            CREATE INDEX silences_by_end ON silences (ends_at);
                            """)
                },
                Migration("alarms-3-revision") { db in
                    // The store's write counter, and the revision that last wrote each alarm (see `AlarmStoring`).
                    try db.execute(
                        sql: """
                            ALTER TABLE alarms ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                            CREATE TABLE alarm_revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                            INSERT INTO alarm_revision (id, value) VALUES (1, 0);
                            """)
                },
            ])
    }

    public func load() throws -> AlarmSnapshot {
        try database.pool.read { db in
            var records: [String: AlarmRecord] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM alarms") {
                let name: String = row["name"]
                records[name] = AlarmRecord(
                    name: name, document: row["document"],
                    state: AlarmState(rawValue: row["state"]) ?? .insufficientData,
                    reason: row["reason"], reasonData: row["reason_data"], updatedAt: row["updated_at"],
                    revision: row["revision"])
            }
            let silences = try Row.fetchAll(db, sql: "SELECT * FROM silences ORDER BY created_at, id").map(
                Self.silence(row:))
            return AlarmSnapshot(revision: try Self.revision(db), records: records, silences: silences)
        }
    }

    public func revision() throws -> Int64 {
        try database.pool.read { db in try Self.revision(db) }
    }

    @discardableResult
    public func save(_ records: [AlarmRecord], history: [AlarmHistoryEntry], deleting: [String]) throws -> Int64 {
        try database.pool.write { db in
            let revision = try Self.bump(db)
            for name in deleting {
                try db.execute(sql: "DELETE FROM alarms WHERE name = ?", arguments: [name])
            }
            for r in records {
                try db.execute(
                    sql: """
                        INSERT INTO alarms (name, document, state, reason, reason_data, updated_at, revision)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET document = excluded.document, state = excluded.state,
                            reason = excluded.reason, reason_data = excluded.reason_data, updated_at = excluded.updated_at,
                            revision = excluded.revision
                        """,
                    arguments: [r.name, r.document, r.state.rawValue, r.reason, r.reasonData, r.updatedAt, revision])
            }
            for entry in history {
                try db.execute(
                    sql: "INSERT INTO alarm_history (alarm, ts, type, summary, data) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        entry.alarm, entry.item.timestamp, entry.item.type, entry.item.summary, entry.item.data,
                    ])
            }
            return revision
        }
    }

    public func history(of alarm: String, type: String?, limit: Int, before: Int64?) throws -> [AlarmHistoryItem] {
        try database.pool.read { db in
            var sql = "SELECT ts, type, summary, data FROM alarm_history WHERE alarm = ?"
            var arguments: StatementArguments = [alarm]
            if let type {
                sql += " AND type = ?"
                arguments += [type]
            }
            if let before {
                sql += " AND ts < ?"
                arguments += [before]
            }
            sql += " ORDER BY ts DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                AlarmHistoryItem(type: $0["type"], timestamp: $0["ts"], summary: $0["summary"], data: $0["data"])
            }
        }
    }

    @discardableResult
    public func pruneHistory(now: Int64) throws -> Int {
        try database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM alarm_history WHERE ts < ?", arguments: [now - AlarmHistoryItem.retention])
            return db.changesCount
        }
    }

    @discardableResult
    public func save(_ silence: Silence) throws -> Int64 {
        try database.pool.write { db in
            let revision = try Self.bump(db)
            try db.execute(
                sql: """
                    INSERT INTO silences (id, matcher_kind, matcher, created_by, comment, starts_at, ends_at, created_at, expired_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET ends_at = MIN(silences.ends_at, excluded.ends_at),
                        expired_by = COALESCE(silences.expired_by, excluded.expired_by)
                    """,
                arguments: [
                    silence.id, silence.matcher.kind, silence.matcher.text, silence.createdBy, silence.comment,
                    silence.startsAt, silence.endsAt, silence.createdAt, silence.expiredBy,
                ])
            return revision
        }
    }

    @discardableResult
    public func pruneSilences(endedBefore before: Int64) throws -> Int {
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM silences WHERE ends_at < ?", arguments: [before])
            return db.changesCount
        }
    }

    static func revision(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM alarm_revision WHERE id = 1") ?? 0
    }

    static func bump(_ db: Database) throws -> Int64 {
        try db.execute(sql: "UPDATE alarm_revision SET value = value + 1 WHERE id = 1")
        return try revision(db)
    }

    static func silence(row: Row) -> Silence {
        let text: String = row["matcher"]
        let kind: String = row["matcher_kind"]
        return Silence(
            id: row["id"], matcher: kind == "alarm" ? .alarm(text) : .pattern(text), createdBy: row["created_by"],
            comment: row["comment"], startsAt: row["starts_at"], endsAt: row["ends_at"], createdAt: row["created_at"],
            expiredBy: row["expired_by"])
    }
}
