import Foundation
import GRDB
import PlumbStore

/// Alarm states, API-defined alarms, the 14-day history and silences, in `alarms.sqlite`.
public final class AlarmStore: Sendable {
    public let database: SQLiteStore

    /// What is persisted of one alarm.
    public struct Record: Sendable, Equatable {
        public var name: String
        /// The JSON document of an alarm created through the API; nil for file alarms.
        public var document: String?
        public var state: AlarmState
        public var reason: String
        public var reasonData: String?
        public var updatedAt: Int64
    }

    /// One history item, as CloudWatch's DescribeAlarmHistory.
    public struct HistoryItem: Sendable, Equatable, Codable {
        /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
        public var type: String
        public var timestamp: Int64
        public var summary: String
        /// JSON (old and new state with reasons, or the action's outcome).
        public var data: String?
    }

    /// CloudWatch keeps alarm history for 14 days.
    public static let historyRetention: Int64 = 14 * 86_400

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
            ])
    }

    public func records() throws -> [String: Record] {
        try database.pool.read { db in
            var out: [String: Record] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM alarms") {
                let name: String = row["name"]
                out[name] = Record(
                    name: name, document: row["document"],
                    state: AlarmState(rawValue: row["state"]) ?? .insufficientData,
                    reason: row["reason"], reasonData: row["reason_data"], updatedAt: row["updated_at"])
            }
            return out
        }
    }

    /// Writes records and history items in one transaction.
    public func save(
        _ records: [Record], history: [(alarm: String, item: HistoryItem)] = [], deleting: [String] = []
    ) throws {
        guard !records.isEmpty || !history.isEmpty || !deleting.isEmpty else { return }
        try database.pool.write { db in
            for name in deleting {
                try db.execute(sql: "DELETE FROM alarms WHERE name = ?", arguments: [name])
            }
            for r in records {
                try db.execute(
                    sql: """
                        INSERT INTO alarms (name, document, state, reason, reason_data, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (name) DO UPDATE SET document = excluded.document, state = excluded.state,
                            reason = excluded.reason, reason_data = excluded.reason_data, updated_at = excluded.updated_at
                        """,
                    arguments: [r.name, r.document, r.state.rawValue, r.reason, r.reasonData, r.updatedAt])
            }
            for (alarm, item) in history {
                try db.execute(
                    sql: "INSERT INTO alarm_history (alarm, ts, type, summary, data) VALUES (?, ?, ?, ?, ?)",
                    arguments: [alarm, item.timestamp, item.type, item.summary, item.data])
            }
        }
    }

    /// Newest first.
    public func history(
        of alarm: String, type: String? = nil, limit: Int = 100, before: Int64? = nil
    ) throws -> [HistoryItem] {
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
                HistoryItem(type: $0["type"], timestamp: $0["ts"], summary: $0["summary"], data: $0["data"])
            }
        }
    }

    /// Drops history older than 14 days; returns how many items went.
    @discardableResult
    public func pruneHistory(now: Int64) throws -> Int {
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM alarm_history WHERE ts < ?", arguments: [now - Self.historyRetention])
            return db.changesCount
        }
    }
}
