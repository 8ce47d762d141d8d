import Foundation
import GRDB
import PlumbStore

/// Old events leave the hot table for zlib-compressed segment files in `<data>/log-archive/`, which search still
/// reads. Segment format: `PLSG1` magic, then varints/strings per event (id, stream, ts, ingested, message),
/// compressed as a whole with zlib.
extension LogStore {
    /// What an archiving pass did.
    public struct ArchiveReport: Sendable, Equatable {
        public var segments = 0
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

    var archiveDirectory: String { (database.path as NSString).deletingLastPathComponent + "/log-archive" }

    /// Deletes events past their group's retention, then moves events older than `archiveAge` milliseconds into
    /// segments of up to `segmentEvents` events.
    @discardableResult
    public func archive(olderThan archiveAge: Int64, segmentEvents: Int = 50_000) throws -> ArchiveReport {
        var report = ArchiveReport()
        let now = clock()
        try FileManager.default.createDirectory(atPath: archiveDirectory, withIntermediateDirectories: true)
        let groups = try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, retention_days FROM log_groups").map {
                (id: $0["id"] as Int64, days: $0["retention_days"] as Int?)
            }
        }
        for group in groups {
            if let days = group.days {
                report.expiredEvents += try expire(groupID: group.id, before: now - Int64(days) * 86_400_000)
            }
            let cutoff = now - archiveAge
            while true {
                let rows = try database.pool.read { db in
                    try Row.fetchAll(
                        db,
                        sql:
                            "SELECT id, stream, ts, ingested, message FROM log_events WHERE group_id = ? AND ts < ? ORDER BY ts, id LIMIT ?",
                        arguments: [group.id, cutoff, segmentEvents])
                }
                guard !rows.isEmpty else { break }
                var writer = BinaryWriter(capacity: 1 << 20)
                writer.writeBytes(Array("PLSG1".utf8))
                for row in rows {
                    writer.writeSignedVarint(row["id"])
                    writer.writeString(row["stream"])
                    writer.writeSignedVarint(row["ts"])
                    writer.writeSignedVarint(row["ingested"])
                    writer.writeString(row["message"])
                }
                let compressed = try Zlib.compress(writer.bytes)
                let first: Int64 = rows.first!["id"]
                let minTs: Int64 = rows.first!["ts"]
                let maxTs: Int64 = rows.last!["ts"]
                let path = archiveDirectory + "/\(group.id)-\(minTs)-\(first).seg"
                try Self.writeDurably(compressed, to: path)
                let ids: [Int64] = rows.map { $0["id"] }
                try database.pool.write { db in
                    try db.execute(
                        sql:
                            "INSERT INTO log_segments (group_id, path, min_ts, max_ts, events, raw_bytes, compressed_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        arguments: [group.id, path, minTs, maxTs, rows.count, writer.bytes.count, compressed.count])
                    let delete = try db.cachedStatement(sql: "DELETE FROM log_events WHERE id = ?")
                    for id in ids { try delete.execute(arguments: [id]) }
                }
                report.segments += 1
                report.events += rows.count
                report.rawBytes += writer.bytes.count
                report.compressedBytes += compressed.count
                if rows.count < segmentEvents { break }
            }
        }
        return report
    }

    /// Drops events and whole segments older than `before`; a segment that straddles it is kept until it is all older.
    func expire(groupID: Int64, before: Int64) throws -> Int {
        let (deleted, paths) = try database.pool.write { db -> (Int, [String]) in
            try db.execute(sql: "DELETE FROM log_events WHERE group_id = ? AND ts < ?", arguments: [groupID, before])
            let deleted = db.changesCount
            let paths = try String.fetchAll(
                db, sql: "SELECT path FROM log_segments WHERE group_id = ? AND max_ts < ?",
                arguments: [groupID, before])
            try db.execute(
                sql: "DELETE FROM log_segments WHERE group_id = ? AND max_ts < ?", arguments: [groupID, before])
            return (deleted, paths)
        }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
        return deleted
    }

    /// Segments of a group overlapping [start, end), oldest first.
    func segments(groupID: Int64, start: Int64, end: Int64, db: Database) throws -> [(path: String, rawBytes: Int)] {
        try Row.fetchAll(
            db,
            sql:
                "SELECT path, raw_bytes FROM log_segments WHERE group_id = ? AND max_ts >= ? AND min_ts < ? ORDER BY min_ts, id",
            arguments: [groupID, start, end]
        ).map { ($0["path"], $0["raw_bytes"]) }
    }

    /// The events of one segment file.
    static func readSegment(path: String, rawBytes: Int, group: String) throws -> [LogEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LogsError(status: 500, code: "ServiceUnavailableException", "archived segment \(path) is missing")
        }
        var reader = BinaryReader(try Zlib.decompress(Array(data), originalSize: rawBytes))
        guard Array(try reader.readBytes(5)) == Array("PLSG1".utf8) else {
            throw LogsError(
                status: 500, code: "ServiceUnavailableException", "archived segment \(path) is not a Plumb segment")
        }
        var events: [LogEvent] = []
        while !reader.isAtEnd {
            let id = try reader.readSignedVarint()
            let stream = try reader.readString()
            let ts = try reader.readSignedVarint()
            let ingested = try reader.readSignedVarint()
            let message = try reader.readString()
            events.append(
                LogEvent(id: id, group: group, stream: stream, timestamp: ts, ingestionTime: ingested, message: message)
            )
        }
        return events
    }

    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            throw LogsError(status: 500, code: "ServiceUnavailableException", "cannot write \(temporary)")
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw LogsError(status: 500, code: "ServiceUnavailableException", "short write to \(temporary)")
            }
            offset += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            throw LogsError(status: 500, code: "ServiceUnavailableException", "cannot rename \(temporary)")
        }
    }
}
