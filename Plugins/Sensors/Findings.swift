import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Findings
extension SensorsPlugin {
    /// The scorer, run every minute (and by hand with `POST /score`). With `plugins.sensors.findings_model` set, each
    /// detector's last minute of readings goes to that classifier model through the host (`classifier.predict-batch`
    /// on the model's 8 features); half or more labelled `findings_label` (default `anomaly`) is a `model` finding.
    /// Otherwise the built-in detector: the mean event rate of the last minute against the detector's rolling
    /// baseline (up to 600 readings before it), z = (window mean − baseline mean) / (baseline σ / √n); |z| ≥ 6 with
    /// at least 10 readings in the window and 30 in the baseline is a `rate-anomaly` finding. At most one finding
    /// per detector per 10 minutes; each is stored and published to the findings topic. It also records
    /// `LastSeenAge` per detector for the no-data alarm.
    func score() async throws -> FunctionResponse {
        let now = Date().timeIntervalSince1970
        let detectors = try await database.read { db in try String.fetchAll(db, sql: "SELECT id FROM detectors ORDER BY id") }
        var found: [[String: Any]] = []
        // Undelivered readings are in the arrival-ordered log, which has no index by detector: read it once.
        let withBodies = findingsModel != nil
        let logged = try await database.read { db -> [String: [ScoredReading]] in
            var recent: [String: [ScoredReading]] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT detector, ts, rate, \(withBodies ? "body" : "''") FROM log WHERE rate IS NOT NULL")
            while let row = try rows.next() {
                let detector: String = row[0]
                recent[detector, default: []].append(ScoredReading(ts: row[1], rate: row[2], body: row[3]))
                if recent[detector]!.count >= 2 * Self.scoredReadings { recent[detector] = Self.newest(recent[detector]!) }
            }
            return recent.mapValues { Self.newest($0) }
        }
        for detector in detectors {
            let delivered = try await database.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT ts, rate, body FROM readings WHERE detector = ? AND rate IS NOT NULL ORDER BY ts DESC LIMIT ?",
                    arguments: [detector, Self.scoredReadings]
                ).map { ScoredReading(ts: $0["ts"], rate: $0["rate"], body: $0["body"]) }
            }
            let rows = Self.newest(delivered + (logged[detector] ?? []))
            guard let latest = rows.first?.ts else { continue }
            Gauge(label: "Plumb/Sensors/LastSeenAge", dimensions: [("Detector", detector)]).record(max(0, now - Double(latest) / 1_000))
            let windowRows = rows.filter { latest - $0.ts < 60_000 }
            let window = windowRows.map(\.rate)
            let windowStart = windowRows.last?.ts ?? latest
            guard window.count >= 10 else { continue }
            let recent = try await database.read { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM findings WHERE detector = ? AND created_at > ?", arguments: [detector, now - 600]) ?? false
            }
            guard !recent else { continue }
            let current = window.reduce(0, +) / Double(window.count)
            if let model = findingsModel {
                let bodies = windowRows.compactMap { row -> Reading? in
                    row.body.isEmpty ? nil : try? Reading.parse(Array(row.body.utf8))
                }
                guard bodies.count >= 10 else { continue }
                var csv = Reading.modelFeatures.joined(separator: ",") + "\n"
                for r in bodies { csv += Reading.modelFeatures.map { Self.number(r.values[$0] ?? 0) }.joined(separator: ",") + "\n" }
                let response: FunctionResponse
                do {
                    response = try await host.invoke("classifier.predict-batch", FunctionRequest(
                        method: .post, path: "/predict/batch", query: ["model": model], headers: ["content-type": "text/csv"], body: Array(csv.utf8)))
                } catch {
                    logger.warning("scoring \(detector) with model \(model) failed: \(error)")
                    continue
                }
                let predictions = ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["predictions"] as? [[String: Any]] ?? []
                guard response.status == 200, !predictions.isEmpty else {
                    logger.warning("model \(model) answered \(response.status) for \(detector): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
                    continue
                }
                let flagged = predictions.filter { $0["label"] as? String == findingsLabel }.count
                let fraction = Double(flagged) / Double(predictions.count)
                guard fraction >= 0.5 else { continue }
                found.append(try await recordFinding(
                    detector: detector, kind: "model", windowStart: windowStart, latest: latest, rate: current, baseline: fraction, sigma: 0, z: 0,
                    readings: predictions.count, now: now,
                    extra: ["model": model, "label": findingsLabel, "fraction": (fraction * 1_000).rounded() / 1_000],
                    subject: "Sensor finding: \(detector) — model \(model) labels \(flagged) of \(predictions.count) readings \(findingsLabel)"))
                continue
            }
            let baseline = rows.filter { latest - $0.ts >= 60_000 }.prefix(600).map(\.rate)
            guard baseline.count >= 30 else { continue }
            let mean = baseline.reduce(0, +) / Double(baseline.count)
            let variance = baseline.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(baseline.count - 1)
            let sigma = max(variance.squareRoot(), abs(mean) * 0.01, 1e-6)
            let z = (current - mean) / (sigma / Double(window.count).squareRoot())
            guard abs(z) >= 6 else { continue }
            found.append(try await recordFinding(
                detector: detector, kind: "rate-anomaly", windowStart: windowStart, latest: latest, rate: current, baseline: mean, sigma: sigma, z: z,
                readings: window.count, now: now,
                extra: ["baselineRate": (mean * 1_000).rounded() / 1_000, "baselineStd": (sigma * 1_000).rounded() / 1_000, "z": (z * 10).rounded() / 10],
                subject: "Sensor finding: \(detector) rate \(String(format: "%.2f", current)) Hz against a \(String(format: "%.2f", mean)) Hz baseline"))
        }
        return Self.json(["findings": found])
    }

    /// A reading as the scorer sees it (the body only when a model scores it, and only while it is in the log).
    struct ScoredReading {
        var ts: Int64
        var rate: Double
        var body: String
    }

    /// How many of a detector's newest readings the scorer looks at: a minute's window and the baseline before it.
    static let scoredReadings = 660

    /// The newest `scoredReadings` of `readings`, newest first.
    static func newest(_ readings: [ScoredReading]) -> [ScoredReading] {
        Array(readings.sorted { $0.ts > $1.ts }.prefix(scoredReadings))
    }

    /// Stores a finding, publishes it to the findings topic and records whether that worked.
    func recordFinding(
        detector: String, kind: String, windowStart: Int64, latest: Int64, rate: Double, baseline: Double, sigma: Double, z: Double,
        readings: Int, now: Double, extra: [String: Any], subject: String
    ) async throws -> [String: Any] {
        var finding: [String: Any] = [
            "detector": detector, "kind": kind, "windowStart": Self.iso(windowStart), "windowEnd": Self.iso(latest),
            "rate": (rate * 1_000).rounded() / 1_000, "readings": readings,
        ]
        finding.merge(extra) { $1 }
        let id = try await database.write { db -> Int64 in
            try db.execute(sql: """
                INSERT INTO findings (detector, kind, window_start, window_end, rate, baseline, baseline_std, z, readings, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [detector, kind, windowStart, latest, rate, baseline, sigma, z, readings, now])
            return db.lastInsertedRowID
        }
        finding["findingId"] = id
        let message = String(decoding: try JSONSerialization.data(withJSONObject: finding, options: [.sortedKeys]), as: UTF8.self)
        var messageID: String?
        var publishError: String?
        do {
            messageID = try host.publish(topic: findingsTopic, subject: subject, message: message, attributes: ["event": "sensor-finding", "detector": detector])
        } catch {
            publishError = "\(error)"
            logger.warning("finding \(id) not published to \(findingsTopic): \(error)")
        }
        let (mid, perr) = (messageID, publishError)
        try await database.write { db in
            try db.execute(sql: "UPDATE findings SET message_id = ?, publish_error = ? WHERE id = ?", arguments: [mid, perr, id])
        }
        Counter(label: "Plumb/Sensors/Findings", dimensions: [("Detector", detector)]).increment()
        logger.info("finding \(id): \(subject)")
        finding["messageId"] = messageID ?? NSNull()
        finding["publishError"] = publishError ?? NSNull()
        return finding
    }

    func findings(_ r: FunctionRequest) async throws -> FunctionResponse {
        let detector = r.query["detector"]
        let limit = try r.intQuery("limit", default: 100, range: 1...1_000)
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM findings WHERE ? IS NULL OR detector = ? ORDER BY id DESC LIMIT ?", arguments: [detector, detector, limit])
        }
        return Self.json(["findings": rows.map(Self.dictionary)])
    }
}
