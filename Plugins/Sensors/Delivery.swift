import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Delivery (Firehose)
extension SensorsPlugin {
    /// One segment on its way out of the log: its rows without bodies (they are in the object).
    struct OutgoingSegment {
        var key: String
        var detector: String
        var ids: [Int64]
        var seqs: [Int64]
        var timestamps: [Int64]
        var rates: [Double?]
        var bytes: Int
        var storedBytes: Int
    }

    /// Moves each detector's log into zlib segment objects keyed `segments/yyyy/mm/dd/hh/<detector>-<first>-<last>.ndjson.z`
    /// (UTC hour of the first reading): every full run of `segment_readings`, and the rest once its oldest reading is
    /// `segment_age` old (`force` delivers everything). The object is written and synced first; then one transaction
    /// records the segment, adds the readings' (detector, seq, ts, rate) rows to `readings` (idempotency, the scorer's
    /// seed, the export) and deletes them from the log. A crash in between leaves an object that the next delivery writes
    /// again, never a reading in neither place.
    func deliver(force: Bool) async throws -> FunctionResponse {
        // One delivery at a time (the schedule and `POST /deliver` may overlap); the second waits for the first.
        while !writer.beginDelivery() { try await Task.sleep(for: .milliseconds(50)) }
        defer { writer.endDelivery() }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        // Most runs of the schedule find nothing due: no reading old enough (the oldest, from the time-ordered index)
        // and, as the writer knows, no detector with a full segment. Then the pass over the log is skipped.
        if !force, let fullest = writer.fullestRun(), fullest < Int64(segmentReadings) {
            let oldest = try await database.read { db in try Int64.fetchOne(db, sql: "SELECT MIN(ts) FROM log") }
            if oldest.map({ Double(now - $0) / 1_000 < segmentAge }) ?? true {
                return Self.json(["segments": 0, "readings": 0, "bytes": 0, "storedBytes": 0])
            }
        }
        // Pass 1: which log rows belong to which detector (ids only; the log has no index by detector, on purpose).
        let byDetector = try await database.read { db -> [String: (ids: [Int64], oldest: Int64)] in
            var runs: [String: (ids: [Int64], oldest: Int64)] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT id, detector, ts FROM log ORDER BY id")
            while let row = try rows.next() {
                let detector: String = row[1]
                let ts: Int64 = row[2]
                runs[detector, default: ([], ts)].ids.append(row[0])
                if ts < runs[detector]!.oldest { runs[detector]!.oldest = ts }
            }
            return runs
        }
        var totals = (segments: 0, readings: 0, bytes: 0, stored: 0)
        var outgoing: [OutgoingSegment] = []
        for (detector, run) in byDetector.sorted(by: { $0.key < $1.key }) {
            let due = force || Double(now - run.oldest) / 1_000 >= segmentAge
            var start = 0
            while start < run.ids.count {
                let end = min(start + segmentReadings, run.ids.count)
                guard end - start == segmentReadings || due else { break }
                outgoing.append(try await writeSegment(detector: detector, ids: Array(run.ids[start..<end])))
                start = end
                if outgoing.count >= 64 {
                    try await commitSegments(outgoing, into: &totals)
                    outgoing.removeAll()
                }
            }
        }
        try await commitSegments(outgoing, into: &totals)
        let (written, delivered, bytes, stored) = totals
        // Every pass counts, so the segments written are a number (0 between deliveries), never "no data".
        Self.segmentsWritten.increment(by: written)
        if written > 0 {
            logger.info("delivered \(delivered) readings in \(written) segments (\(bytes) bytes, \(stored) stored)")
        }
        return Self.json(["segments": written, "readings": delivered, "bytes": bytes, "storedBytes": stored])
    }

    /// Pass 2 for one run of a detector's log: reads the rows, checks the sequence has no gap, and writes the object.
    func writeSegment(detector: String, ids: [Int64]) async throws -> OutgoingSegment {
        let rows = try await database.read { db -> [Row] in
            var rows: [Row] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let part = ids[start..<min(start + 500, ids.count)]
                rows += try Row.fetchAll(
                    db,
                    sql:
                        "SELECT id, seq, ts, rate, body FROM log WHERE id IN (\(part.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(Array(part)))
            }
            return rows.sorted { ($0["seq"] as Int64) < ($1["seq"] as Int64) }
        }
        guard let firstRow = rows.first, let lastRow = rows.last else {
            throw FunctionError(
                status: 500, code: "LogChanged", message: "the log of \(detector) changed during delivery")
        }
        let first: Int64 = firstRow["seq"]
        let last: Int64 = lastRow["seq"]
        guard last - first + 1 == Int64(rows.count) else {
            throw FunctionError(
                status: 500, code: "LogGap", message: "the log of \(detector) has a gap between \(first) and \(last)")
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(rows.count * 480)
        var segment = OutgoingSegment(
            key: "", detector: detector, ids: [], seqs: [], timestamps: [], rates: [], bytes: 0, storedBytes: 0)
        for row in rows {
            payload += (row["body"] as String).utf8
            payload.append(0x0A)
            segment.ids.append(row["id"])
            segment.seqs.append(row["seq"])
            segment.timestamps.append(row["ts"])
            segment.rates.append(row["rate"])
        }
        segment.key = "segments/" + Self.hourPrefix(firstRow["ts"]) + "\(detector)-\(first)-\(last).ndjson.z"
        try blobs.put(segment.key, payload, compressionLevel: 6)
        segment.bytes = payload.count
        segment.storedBytes = blobs.storedSize(segment.key) ?? 0
        return segment
    }

    /// One transaction for written segments: record them, index their readings, trim them from the log.
    func commitSegments(
        _ segments: [OutgoingSegment], into totals: inout (segments: Int, readings: Int, bytes: Int, stored: Int)
    ) async throws {
        guard !segments.isEmpty else { return }
        let writer = self.writer
        try await database.write { db in
            let record = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO segments (key, detector, first_seq, last_seq, first_ts, last_ts, readings, bytes, stored_bytes, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            // The segment is found from (detector, seq) through `segments`; naming it in every row cost ~50 bytes a reading.
            let index = try db.cachedStatement(
                sql: "INSERT INTO readings (detector, seq, ts, body, segment, rate) VALUES (?, ?, ?, '', NULL, ?)")
            let trim = try db.cachedStatement(sql: "DELETE FROM log WHERE id = ?")
            for s in segments {
                try record.execute(arguments: [
                    s.key, s.detector, s.seqs.first, s.seqs.last, s.timestamps.first, s.timestamps.last, s.ids.count,
                    s.bytes, s.storedBytes,
                    Date().timeIntervalSince1970,
                ])
                for i in s.ids.indices {
                    try index.execute(arguments: [s.detector, s.seqs[i], s.timestamps[i], s.rates[i]])
                    try trim.execute(arguments: [s.ids[i]])
                    guard db.changesCount == 1 else {
                        throw FunctionError(
                            status: 500, code: "LogChanged",
                            message: "reading \(s.seqs[i]) of \(s.detector) left the log during delivery")
                    }
                }
                writer.noteDelivered(s.detector, maxTs: s.timestamps.max() ?? Int64.min, lastSeq: s.seqs.last ?? 0)
            }
        }
        for s in segments {
            totals.segments += 1
            totals.readings += s.ids.count
            totals.bytes += s.bytes
            totals.stored += s.storedBytes
        }
        for s in segments { await objectEvent("ObjectCreated:Put", key: s.key, size: s.storedBytes) }
    }

    /// `yyyy/mm/dd/hh/` (UTC) of a time in epoch milliseconds: the key prefix of its segment.
    static func hourPrefix(_ ms: Int64) -> String {
        let t = Array(RFC3339.format(milliseconds: ms))
        return String(t[0..<4]) + "/" + String(t[5..<7]) + "/" + String(t[8..<10]) + "/" + String(t[11..<13]) + "/"
    }
}
