import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Delivery (Firehose)
extension SensorsPlugin {
    /// Moves each detector's log into zlib segment objects keyed `segments/yyyy/mm/dd/hh/<detector>-<first>-<last>.ndjson.z`
    /// (UTC hour of the first reading) once the size or time hint is reached (`force` delivers everything), then
    /// trims the bodies from the log. The object is written and synced before the log changes, so a crash in between
    /// leaves an object that the next delivery writes again, never a reading in neither place.
    func deliver(force: Bool) async throws -> FunctionResponse {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let candidates = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT detector, COUNT(*) AS n, MIN(ts) AS oldest FROM readings WHERE segment IS NULL GROUP BY detector")
        }
        var written = 0, delivered = 0, bytes = 0, stored = 0
        for candidate in candidates {
            let detector: String = candidate["detector"]
            let count: Int = candidate["n"]
            let oldest: Int64 = candidate["oldest"]
            guard force || count >= segmentReadings || Double(now - oldest) / 1_000 >= segmentAge else { continue }
            let rows = try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, ts, body FROM readings WHERE detector = ? AND segment IS NULL ORDER BY seq LIMIT ?", arguments: [detector, segmentReadings])
            }
            guard let firstRow = rows.first, let lastRow = rows.last else { continue }
            let first: Int64 = firstRow["seq"], last: Int64 = lastRow["seq"]
            guard last - first + 1 == Int64(rows.count) else {
                throw FunctionError(status: 500, code: "LogGap", message: "the log of \(detector) has a gap between \(first) and \(last)")
            }
            var payload: [UInt8] = []
            for row in rows {
                payload += Array((row["body"] as String).utf8)
                payload.append(0x0A)
            }
            let firstTs: Int64 = firstRow["ts"], lastTs: Int64 = lastRow["ts"]
            let key = "segments/" + Self.hourPrefix(firstTs) + "\(detector)-\(first)-\(last).ndjson.z"
            try blobs.put(key, payload, compressionLevel: 6)
            let storedBytes = blobs.storedSize(key) ?? 0
            let (readingCount, payloadBytes) = (rows.count, payload.count)
            try await database.write { db in
                try db.execute(sql: """
                    INSERT OR REPLACE INTO segments (key, detector, first_seq, last_seq, first_ts, last_ts, readings, bytes, stored_bytes, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [key, detector, first, last, firstTs, lastTs, readingCount, payloadBytes, storedBytes, Date().timeIntervalSince1970])
                try db.execute(
                    sql: "UPDATE readings SET body = '', segment = ? WHERE detector = ? AND seq BETWEEN ? AND ? AND segment IS NULL",
                    arguments: [key, detector, first, last])
            }
            objectEvent("ObjectCreated:Put", key: key, size: storedBytes)
            written += 1
            delivered += rows.count
            bytes += payload.count
            stored += storedBytes
        }
        if written > 0 {
            logger.info("delivered \(delivered) readings in \(written) segments (\(bytes) bytes, \(stored) stored)")
            Counter(label: "Plumb/Sensors/SegmentsWritten").increment(by: written)
        }
        return Self.json(["segments": written, "readings": delivered, "bytes": bytes, "storedBytes": stored])
    }

    /// `yyyy/mm/dd/hh/` (UTC) of a time in epoch milliseconds: the key prefix of its segment.
    static func hourPrefix(_ ms: Int64) -> String {
        let t = Array(RFC3339.format(milliseconds: ms))
        return String(t[0..<4]) + "/" + String(t[5..<7]) + "/" + String(t[8..<10]) + "/" + String(t[11..<13]) + "/"
    }
}
