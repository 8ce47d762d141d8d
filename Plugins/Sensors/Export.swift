import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Export
extension SensorsPlugin {
    func export(_ r: FunctionRequest) async throws -> FunctionResponse {
        let detector = r.query["detector"]
        if let detector, !Reading.validDetector(detector) {
            throw FunctionError.badRequest("'detector' is not a valid detector id")
        }
        let start =
            try r.query["start"].map { text -> Int64 in
                guard let ms = Reading.parseTime(text) ?? Int64(text) else {
                    throw FunctionError.badRequest("'start' must be RFC 3339 or epoch milliseconds")
                }
                return ms
            } ?? 0
        let end =
            try r.query["end"].map { text -> Int64 in
                guard let ms = Reading.parseTime(text) ?? Int64(text) else {
                    throw FunctionError.badRequest("'end' must be RFC 3339 or epoch milliseconds")
                }
                return ms
            } ?? Int64.max
        let features = r.query["features"].map { $0.split(separator: ",").map(String.init) } ?? Reading.modelFeatures
        if let unknown = features.first(where: { !Reading.numeric.contains($0) && $0 != "firmware" }) {
            throw FunctionError.badRequest(
                "unknown feature '\(unknown)'; features: \((Reading.numeric + ["firmware"]).joined(separator: ", "))")
        }
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT detector, seq, ts, body, 1 AS delivered FROM readings WHERE (?1 IS NULL OR detector = ?1) AND ts >= ?2 AND ts <= ?3
                    UNION ALL SELECT detector, seq, ts, body, 0 FROM log WHERE (?1 IS NULL OR detector = ?1) AND ts >= ?2 AND ts <= ?3
                    ORDER BY ts, detector LIMIT 1000000
                    """,
                arguments: [detector, start, end])
        }
        var csv = (["timestamp", "detector", "seq"] + features).map(Self.csvField).joined(separator: ",") + "\r\n"
        var segments: [String: (first: Int64, lines: [ArraySlice<UInt8>])] = [:]
        // The segment of each detector's last delivered row: rows come in time order, mostly from the same segment.
        var holding: [String: (key: String, range: ClosedRange<Int64>)] = [:]
        for row in rows {
            let seq: Int64 = row["seq"]
            var line: ArraySlice<UInt8>
            if row["delivered"] as Bool {
                let detector: String = row["detector"]
                let key: String
                if let known = holding[detector], known.range.contains(seq) {
                    key = known.key
                } else {
                    let found = try await segment(detector: detector, seq: seq)
                    holding[detector] = found
                    key = found.key
                }
                if segments[key] == nil { segments[key] = try await loadSegment(key) }
                guard let segment = segments[key], seq - segment.first >= 0,
                    seq - segment.first < Int64(segment.lines.count)
                else {
                    throw FunctionError(
                        status: 500, code: "SegmentDamaged", message: "segment \(key) does not hold reading \(seq)")
                }
                line = segment.lines[Int(seq - segment.first)]
            } else {
                line = ArraySlice((row["body"] as String).utf8)
            }
            guard let reading = try? Reading.parse(line) else { continue }
            var fields = [Self.iso(row["ts"]), reading.detector, String(seq)]
            for f in features { fields.append(f == "firmware" ? reading.firmware : Self.number(reading.value(f) ?? 0)) }
            csv += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        return FunctionResponse(
            status: 200, headers: ["content-type": "text/csv; charset=utf-8"], body: Array(csv.utf8))
    }

    /// The segment holding reading `seq` of `detector`: its key and sequence range.
    func segment(detector: String, seq: Int64) async throws -> (key: String, range: ClosedRange<Int64>) {
        let row = try await database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT key, first_seq, last_seq FROM segments WHERE detector = ?1 AND first_seq <= ?2 ORDER BY first_seq DESC LIMIT 1",
                arguments: [detector, seq])
        }
        guard let row, (row["last_seq"] as Int64) >= seq else {
            throw FunctionError(
                status: 500, code: "SegmentMissing", message: "no segment holds reading \(seq) of \(detector)")
        }
        return (row["key"], (row["first_seq"] as Int64)...(row["last_seq"] as Int64))
    }

    /// A 409 naming the restore when `key` is in the archive tier.
    func requireReadable(_ key: String) throws {
        if try blobs.tier(key) == .archived {
            throw FunctionError(
                status: 409, code: "ObjectArchived",
                message:
                    "\(key) is in the archive tier; restore it first: POST /apps/sensors/objects/restore {\"key\": \"\(key)\", \"days\": N}"
            )
        }
    }

    func loadSegment(_ key: String) async throws -> (first: Int64, lines: [ArraySlice<UInt8>]) {
        try requireReadable(key)
        let first = try await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT first_seq FROM segments WHERE key = ?", arguments: [key])
        }
        guard let first, let bytes = try blobs.get(key) else {
            throw FunctionError(status: 500, code: "SegmentMissing", message: "segment object \(key) is missing")
        }
        return (first, bytes.split(separator: 0x0A))
    }
}
