import Foundation
import GRDB

extension AlarmStore {
    /// Every stored silence.
    public func silences() throws -> [Silence] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM silences ORDER BY created_at, id").map(Self.silence(row:))
        }
    }

    /// Inserts or replaces one silence.
    public func save(_ silence: Silence) throws {
        try database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO silences (id, matcher_kind, matcher, created_by, comment, starts_at, ends_at, created_at, expired_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET ends_at = excluded.ends_at, expired_by = excluded.expired_by
                    """,
                arguments: [
                    silence.id, silence.matcher.kind, silence.matcher.text, silence.createdBy, silence.comment,
                    silence.startsAt,
                    silence.endsAt, silence.createdAt, silence.expiredBy,
                ])
        }
    }

    /// Drops silences that ended before `before`; returns how many went.
    @discardableResult
    public func pruneSilences(endedBefore before: Int64) throws -> Int {
        try database.pool.write { db in
            try db.execute(sql: "DELETE FROM silences WHERE ends_at < ?", arguments: [before])
            return db.changesCount
        }
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
