import Foundation
import GRDB
import PlumbStore

/// Events leave the table, where they land on ingest, for sealed blocks (`LogBlock`): a group's oldest events (by
/// timestamp) are sealed as soon as they fill a block (4,096 events or 1 MiB of messages), and whatever is left once
/// it was ingested `sealAfter` ago. A block is written and its rows deleted in one SQLite transaction, so an event is always in
/// exactly one of the two. Searches and followers read both.
///
/// Segment files that versions before blocks wrote to `<data>/log-archive` (events older than `archive_after`) are
/// turned into blocks when the store opens.
extension LogStore {
    /// What a sealing pass did.
    public struct SealReport: Sendable, Equatable {
        public var blocks = 0
        public var events = 0
        public var rawBytes = 0
        public var compressedBytes = 0
        public var expiredEvents = 0

        public var compressionRatio: Double { compressedBytes == 0 ? 0 : Double(rawBytes) / Double(compressedBytes) }
    }

    /// CloudWatch's allowed retention values in days (nil: never expire).
    public static let retentionDays: [Int] = [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]

    /// Sets a group's retention (PutRetentionPolicy / DeleteRetentionPolicy with nil).
    public func setRetention(group: String, days: Int?) throws {
        if let days, !Self.retentionDays.contains(days) {
            throw LogsError(
                "retention must be one of \(Self.retentionDays.map(String.init).joined(separator: ", ")) days, or null to never expire"
            )
        }
        try database.pool.write { db in
            guard try Self.groupID(db, group, create: false, now: 0) != nil else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(group)'")
            }
            try db.execute(sql: "UPDATE log_groups SET retention_days = ? WHERE name = ?", arguments: [days, group])
        }
    }

    /// Deletes a group with its streams, events and sealed blocks in one transaction (and the files of any segment
    /// of an earlier version left unconverted, after the commit). The highest event id is recorded in the same
    /// transaction, so the deleted events' ids are not given again after a restart; a sealing pass that read the
    /// group's rows before finds them gone and writes nothing.
    public func deleteGroup(_ name: String) throws {
        let segmentFiles = try database.pool.write { db -> [String] in
            guard let id = try Self.groupID(db, name, create: false, now: 0) else {
                throw LogsError(status: 404, code: "ResourceNotFoundException", "no log group '\(name)'")
            }
            try db.execute(
                sql: """
                    INSERT INTO log_meta (key, value) VALUES ('highest_id', ?)
                    ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)
                    """,
                arguments: [nextEventIDNow() - 1])
            let files = try String.fetchAll(
                db, sql: "SELECT path FROM log_segments WHERE group_id = ?", arguments: [id])
            for table in ["log_events", "log_blocks", "log_streams", "log_segments"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE group_id = ?", arguments: [id])
            }
            try db.execute(sql: "DELETE FROM log_groups WHERE id = ?", arguments: [id])
            return files
        }
        for path in segmentFiles { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Seals every group's full blocks, and the events ingested more than `sealAfter` milliseconds ago.
    @discardableResult
    public func seal(sealAfter: Int64) throws -> SealReport {
        var report = SealReport()
        let cutoff = clock() - sealAfter
        let groups = try database.pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM log_groups") }
        for group in groups {
            while let block = try sealOne(groupID: group, ingestedBy: cutoff) {
                report.blocks += 1
                report.events += block.events
                report.rawBytes += block.raw
                report.compressedBytes += block.compressed
            }
        }
        return report
    }

    /// Bytes of `logs.sqlite` in use (its pages less the free ones), after moving the write-ahead log into it.
    public func bytesInUse() throws -> Int {
        try database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            return (pages - free) * (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        }
    }

    /// Deletes events and whole blocks past each group's retention; a block that straddles the limit is kept until
    /// all of it is older.
    @discardableResult
    public func applyRetention() throws -> Int {
        let now = clock()
        let groups = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL")
                .map { (id: $0["id"] as Int64, days: $0["retention_days"] as Int) }
        }
        var expired = 0
        // Deleting the newest events must not let their ids be given again after a restart.
        if !groups.isEmpty { try rememberHighestID() }
        // Only CloudWatch's values are ever stored (`setRetention`); anything else read back is ignored, not
        // multiplied into an overflow.
        for group in groups where Self.retentionDays.contains(group.days) {
            let before = now - Int64(group.days) * 86_400_000
            expired += try database.pool.write { db in
                try db.execute(
                    sql: "DELETE FROM log_events WHERE group_id = ? AND ts < ?", arguments: [group.id, before])
                let rows = db.changesCount
                let blocks =
                    try Int.fetchOne(
                        db, sql: "SELECT COALESCE(SUM(events), 0) FROM log_blocks WHERE group_id = ? AND max_ts < ?",
                        arguments: [group.id, before]) ?? 0
                try db.execute(
                    sql: "DELETE FROM log_blocks WHERE group_id = ? AND max_ts < ?", arguments: [group.id, before])
                return rows + blocks
            }
        }
        return expired
    }

    /// Seals the group's oldest events (by timestamp) into one block when they fill it, else all its events once one
    /// of them was ingested by `cutoff`.
    private func sealOne(groupID: Int64, ingestedBy cutoff: Int64) throws -> (events: Int, raw: Int, compressed: Int)? {
        // Read without holding the writer, through the (group, ts, id) index. Rows that arrive meanwhile are not
        // among the ids read, and only this pass and retention (run one after the other) delete rows.
        let (candidates, full) = try database.pool.read { db -> ([LogBlock.Event], Bool) in
            var events: [LogBlock.Event] = []
            var bytes = 0
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? ORDER BY ts, id LIMIT ?",
                arguments: [groupID, LogBlock.maxEvents])
            while let row = try rows.next() {
                let message: String = row[4]
                events.append(
                    LogBlock.Event(
                        id: row[0], stream: row[1], timestamp: row[2], ingestionTime: row[3], message: message))
                bytes += message.utf8.count
                if bytes >= LogBlock.maxMessageBytes { return (events, true) }
            }
            return (events, events.count == LogBlock.maxEvents)
        }
        // Rows that do not fill a block are all of the group's rows: they are sealed together once the oldest
        // arrived `sealAfter` ago (so a quiet group makes one block per `sealAfter`, not one per pass).
        guard full || candidates.contains(where: { $0.ingestionTime <= cutoff }) else { return nil }
        let sealed = candidates
        guard !sealed.isEmpty else { return nil }
        let raw = LogBlock.encode(sealed)
        let compressed = try Zlib.compress(raw)
        try database.pool.write { db in
            try Self.insertBlock(db, groupID: groupID, events: sealed, raw: raw, compressed: compressed)
            let delete = try db.cachedStatement(sql: "DELETE FROM log_events WHERE id = ?")
            var deleted = 0
            for event in sealed {
                try delete.execute(arguments: [event.id])
                deleted += db.changesCount
            }
            guard deleted == sealed.count else {
                throw LogsError(
                    status: 500, code: "ServiceUnavailableException",
                    "sealing found \(deleted) of the \(sealed.count) rows it read; nothing was sealed")
            }
        }
        return (sealed.count, raw.count, compressed.count)
    }

    static func insertBlock(
        _ db: Database, groupID: Int64, events: [LogBlock.Event], raw: [UInt8], compressed: [UInt8]
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO log_blocks (group_id, first_id, last_id, min_ts, max_ts, events, raw_bytes, data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                groupID, events.map(\.id).min(), events.map(\.id).max(), events.map(\.timestamp).min(),
                events.map(\.timestamp).max(), events.count, raw.count, Data(compressed),
            ])
    }

    /// Turns the segment files of earlier versions into blocks (each segment in one transaction, its file deleted
    /// after the commit); a segment whose file is gone is dropped from the index.
    func convertSegments() throws {
        let segments = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, group_id, path, raw_bytes FROM log_segments ORDER BY id")
        }
        for segment in segments {
            let path: String = segment["path"]
            let events: [LogBlock.Event]?
            do {
                events = try FileManager.default.contents(atPath: path).map {
                    try Self.readSegment(Array($0), rawBytes: segment["raw_bytes"], path: path)
                }
            } catch {
                // A damaged file stays where it is, with its row, for a person to look at; the store opens.
                continue
            }
            try database.pool.write { db in
                for chunk in stride(from: 0, to: events?.count ?? 0, by: LogBlock.maxEvents) {
                    let part = Array(events![chunk..<min(chunk + LogBlock.maxEvents, events!.count)])
                    let raw = LogBlock.encode(part)
                    try Self.insertBlock(
                        db, groupID: segment["group_id"], events: part, raw: raw, compressed: try Zlib.compress(raw))
                }
                try db.execute(sql: "DELETE FROM log_segments WHERE id = ?", arguments: [segment["id"] as Int64])
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The events of a segment file (`PLSG1`, then id, stream, ts, ingested, message per event, zlib as a whole).
    static func readSegment(_ data: [UInt8], rawBytes: Int, path: String) throws -> [LogBlock.Event] {
        var reader = BinaryReader(try Zlib.decompress(data, originalSize: rawBytes))
        guard Array(try reader.readBytes(5)) == Array("PLSG1".utf8) else {
            throw LogsError(
                status: 500, code: "ServiceUnavailableException", "archived segment \(path) is not a Plumb segment")
        }
        var events: [LogBlock.Event] = []
        while !reader.isAtEnd {
            events.append(
                LogBlock.Event(
                    id: try reader.readSignedVarint(), stream: try reader.readString(),
                    timestamp: try reader.readSignedVarint(), ingestionTime: try reader.readSignedVarint(),
                    message: try reader.readString()))
        }
        return events
    }
}
