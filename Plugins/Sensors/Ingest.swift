import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Ingest
extension SensorsPlugin {
    enum Format { case ndjson, auto }

    /// `POST /ingest`. A chunked upload (a device's long-lived stream) is acknowledged chunk by chunk: one NDJSON line
    /// per chunk of complete lines, written after that chunk's readings are committed —
    /// `{"chunk", "lines": [first, last], "accepted", "duplicates", "rejected", "rejections", "sequences"}`. A request
    /// with a length is answered once, like `/batches`.
    func ingestStream(_ r: FunctionRequest) async throws -> FunctionResponse {
        guard let stream = r.bodyStream else { return try await ingest(r, format: .ndjson) }
        guard r.headers["transfer-encoding"]?.lowercased().contains("chunked") == true else {
            var whole = r
            var body: [UInt8] = []
            for try await piece in stream {
                body += piece
                guard body.count <= 64 * 1_048_576 else {
                    throw FunctionError(
                        status: 413, code: "TooLarge",
                        message: "at most 64 MiB per request; stream with chunked encoding")
                }
            }
            whole.body = body
            whole.bodyStream = nil
            return try await ingest(whole, format: .ndjson)
        }
        return .streaming(headers: ["content-type": "application/x-ndjson"]) { write in
            var pending: [UInt8] = []
            var nextLine = 1
            var chunk = 0
            func acknowledge(_ complete: [UInt8]) async throws {
                let items = complete.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0 }
                let lines = items.last?.isEmpty == true ? Array(items.dropLast()) : items
                chunk += 1
                let (outcome, rejected) = try await self.store(lines, firstLine: nextLine)
                let first = nextLine
                nextLine += lines.count
                if rejected.isEmpty {
                    // The common acknowledgement, built by hand (keys sorted as below): this is the stream's hot path.
                    var text =
                        "{\"accepted\":\(outcome.accepted),\"chunk\":\(chunk),\"duplicates\":\(outcome.duplicates),\"lines\":"
                    text += lines.isEmpty ? "[]" : "[\(first),\(nextLine - 1)]"
                    text +=
                        ",\"rejected\":0,\"rejections\":[],\"sequences\":" + Self.sequencesJSON(outcome.last) + "}\n"
                    write(Array(text.utf8))
                    return
                }
                var ack: [String: Any] = [
                    "chunk": chunk, "lines": [first, nextLine - 1], "accepted": outcome.accepted,
                    "duplicates": outcome.duplicates,
                    "rejected": rejected.count, "rejections": rejected, "sequences": outcome.last,
                ]
                if lines.isEmpty { ack["lines"] = [] }
                write(Array((try JSONSerialization.data(withJSONObject: ack, options: [.sortedKeys])) + [0x0A]))
            }
            for try await piece in stream {
                pending += piece
                guard let last = pending.lastIndex(of: 0x0A) else {
                    if pending.count > 65_536 {
                        write(Array("{\"error\":\"a line is longer than 64 KiB\"}\n".utf8))
                        return
                    }
                    continue
                }
                let complete = Array(pending[...last])
                pending.removeFirst(last + 1)
                try await acknowledge(complete)
            }
            if !pending.isEmpty { try await acknowledge(pending) }
        }
    }

    /// Parses lines, stores the valid readings of known detectors (idempotent on detector and timestamp) in one group
    /// commit, and returns the outcome with the line and reason of each rejection.
    func store(_ items: [ArraySlice<UInt8>], firstLine: Int) async throws -> (ReadingWriter.Outcome, [[String: Any]]) {
        let arrived = ContinuousClock.now
        defer {
            let waited = ContinuousClock.now - arrived
            Self.ingestLatency.recordNanoseconds(
                waited.components.seconds * 1_000_000_000 + waited.components.attoseconds / 1_000_000_000)
        }
        var readings: [(line: Int, reading: Reading)] = []
        var rejected: [[String: Any]] = []
        // A reading from the future is a device's broken clock (and would name a segment path centuries ahead).
        let latest = Int64(Date().timeIntervalSince1970 * 1_000) + Self.maxFutureMilliseconds
        for (index, item) in items.enumerated() {
            let line = item.drop { $0 == 0x20 || $0 == 0x0D }
            if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do {
                let reading = try Reading.parse(line)
                guard reading.timestamp <= latest else {
                    throw Reading.Invalid(
                        reason:
                            "'timestamp' is more than \(Self.maxFutureMilliseconds / 60_000) minutes ahead of the server's clock"
                    )
                }
                readings.append((firstLine + index, reading))
            } catch let e as Reading.Invalid {
                rejected.append(["line": firstLine + index, "reason": e.reason])
            }
        }
        let known = try await writer.knownDetectors(Set(readings.map(\.reading.detector)))
        var valid: [Reading] = []
        for item in readings {
            if known.contains(item.reading.detector) {
                valid.append(item.reading)
            } else {
                rejected.append(["line": item.line, "reason": "unknown detector '\(item.reading.detector)'"])
            }
        }
        let outcome = try await writer.append(valid)
        Self.ingested.increment(by: outcome.accepted)
        if outcome.duplicates > 0 { Self.duplicates.increment(by: outcome.duplicates) }
        // Counted every time, so a minute without rejections is a 0 rather than no data.
        Self.rejectedCounter.increment(by: rejected.count)
        rejected.sort { ($0["line"] as? Int ?? 0) < ($1["line"] as? Int ?? 0) }
        return (outcome, rejected)
    }

    /// How far ahead of the server's clock a reading's timestamp may be: an hour of clock skew.
    static let maxFutureMilliseconds: Int64 = 3_600_000

    /// A whole body of readings (NDJSON, or for `/batches` also a JSON array), answered once after the commit.
    func ingest(_ r: FunctionRequest, format: Format) async throws -> FunctionResponse {
        var items: [ArraySlice<UInt8>] = []
        let body = r.body
        let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard !trimmed.isEmpty else {
            throw FunctionError.badRequest(
                "empty body: send one reading per line (NDJSON) or a JSON array", code: "EmptyBody")
        }
        if format == .auto, trimmed.first == UInt8(ascii: "[") {
            guard let array = try? JSONSerialization.jsonObject(with: Data(trimmed)) as? [Any] else {
                throw FunctionError.badRequest("the body starts like a JSON array but is not one")
            }
            items = try array.map { element in
                ArraySlice(try JSONSerialization.data(withJSONObject: element, options: [.fragmentsAllowed]))
            }
        } else {
            items = body.split(separator: 0x0A, omittingEmptySubsequences: false).map { $0 }
        }
        guard items.count <= Self.maxLines else {
            throw FunctionError(
                status: 413, code: "TooManyReadings", message: "at most \(Self.maxLines) readings per request")
        }
        let (outcome, rejected) = try await store(items, firstLine: 1)
        let status = outcome.accepted + outcome.duplicates == 0 && !rejected.isEmpty ? 400 : 200
        if rejected.isEmpty {
            // The common answer, built by hand: this is the ingest hot path.
            let text =
                "{\"accepted\":\(outcome.accepted),\"duplicates\":\(outcome.duplicates),\"rejected\":0,\"rejections\":[],\"sequences\":"
                + Self.sequencesJSON(outcome.last) + "}"
            return FunctionResponse(status: 200, headers: ["content-type": "application/json"], body: Array(text.utf8))
        }
        return Self.json(
            [
                "accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected.count,
                "rejections": rejected,
                "sequences": outcome.last.mapValues { $0 },
            ], status: status)
    }

    /// `{"D-1":5,…}` sorted by detector. Detector ids are letters, digits, `_`, `.` and `-` (validated at parse), so
    /// they need no escaping.
    static func sequencesJSON(_ last: [String: Int64]) -> String {
        if last.count == 1, let (detector, seq) = last.first { return "{\"\(detector)\":\(seq)}" }
        var text = "{"
        for (i, (detector, seq)) in last.sorted(by: { $0.key < $1.key }).enumerated() {
            text += (i > 0 ? "," : "") + "\"\(detector)\":\(seq)"
        }
        return text + "}"
    }
}
