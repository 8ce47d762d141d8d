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
        // One snapshot for everything the run reads; the readings themselves come from the in-memory windows.
        let windows = writer.windows
        let (detectors, recentFindings) = try await database.read { db -> ([String], Set<String>) in
            if !windows.seeded { try windows.seed(db) }
            return (
                try String.fetchAll(db, sql: "SELECT id FROM detectors ORDER BY id"),
                try Set(
                    String.fetchAll(
                        db, sql: "SELECT DISTINCT detector FROM findings WHERE created_at > ?", arguments: [now - 600]))
            )
        }
        let samples = windows.snapshot()
        var found: [[String: Any]] = []
        var modelWindows: [String: (start: Int64, latest: Int64, rate: Double, readings: Int)] = [:]
        for detector in detectors {
            guard let rows = samples[detector], let latest = rows.first?.ts else { continue }
            Gauge(label: "Plumb/Sensors/LastSeenAge", dimensions: [("Detector", detector)]).record(
                max(0, now - Double(latest) / 1_000))
            let windowRows = rows.filter { latest - $0.ts < 60_000 }
            let window = windowRows.map(\.rate)
            let windowStart = windowRows.last?.ts ?? latest
            guard window.count >= 10, !recentFindings.contains(detector) else { continue }
            let current = window.reduce(0, +) / Double(window.count)
            if findingsModel != nil {
                modelWindows[detector] = (windowStart, latest, current, window.count)
                continue
            }
            let baseline = rows.filter { latest - $0.ts >= 60_000 }.prefix(600).map(\.rate)
            guard baseline.count >= 30 else { continue }
            let mean = baseline.reduce(0, +) / Double(baseline.count)
            let variance = baseline.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(baseline.count - 1)
            let sigma = max(variance.squareRoot(), abs(mean) * 0.01, 1e-6)
            let z = (current - mean) / (sigma / Double(window.count).squareRoot())
            guard abs(z) >= 6 else { continue }
            found.append(
                try await recordFinding(
                    detector: detector, kind: "rate-anomaly", windowStart: windowStart, latest: latest, rate: current,
                    baseline: mean, sigma: sigma, z: z,
                    readings: window.count, now: now,
                    extra: [
                        "baselineRate": (mean * 1_000).rounded() / 1_000,
                        "baselineStd": (sigma * 1_000).rounded() / 1_000, "z": (z * 10).rounded() / 10,
                    ],
                    subject:
                        "Sensor finding: \(detector) rate \(String(format: "%.2f", current)) Hz against a \(String(format: "%.2f", mean)) Hz baseline"
                ))
        }
        if let model = findingsModel, !modelWindows.isEmpty {
            found += try await scoreWithModel(model, modelWindows, now: now)
        }
        return Self.json(["findings": found])
    }

    /// The model path: each candidate's window of readings still in the log (one pass over the log's recent end)
    /// goes to the classifier; half or more labelled `findings_label` is a finding.
    func scoreWithModel(
        _ model: String, _ windows: [String: (start: Int64, latest: Int64, rate: Double, readings: Int)], now: Double
    ) async throws -> [[String: Any]] {
        let since = windows.values.map(\.start).min() ?? 0
        let bodies = try await database.read { db -> [String: [Reading]] in
            var bodies: [String: [Reading]] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT detector, ts, body FROM log WHERE ts >= ?", arguments: [since])
            while let row = try rows.next() {
                let detector: String = row[0]
                let ts: Int64 = row[1]
                guard let w = windows[detector], ts >= w.start, ts <= w.latest else { continue }
                if let reading = try? Reading.parse(Array((row[2] as String).utf8)) {
                    bodies[detector, default: []].append(reading)
                }
            }
            return bodies
        }
        var found: [[String: Any]] = []
        for (detector, w) in windows.sorted(by: { $0.key < $1.key }) {
            guard let readings = bodies[detector], readings.count >= 10 else { continue }
            var csv = Reading.modelFeatures.joined(separator: ",") + "\n"
            for r in readings {
                csv += Reading.modelFeatures.map { Self.number(r.value($0) ?? 0) }.joined(separator: ",") + "\n"
            }
            let response: FunctionResponse
            do {
                response = try await host.invoke(
                    "classifier.predict-batch",
                    FunctionRequest(
                        method: .post, path: "/predict/batch", query: ["model": model],
                        headers: ["content-type": "text/csv"], body: Array(csv.utf8)))
            } catch {
                logger.warning("scoring \(detector) with model \(model) failed: \(error)")
                continue
            }
            let predictions =
                ((try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any])?["predictions"]
                as? [[String: Any]] ?? []
            guard response.status == 200, !predictions.isEmpty else {
                logger.warning(
                    "model \(model) answered \(response.status) for \(detector): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
                )
                continue
            }
            let flagged = predictions.filter { $0["label"] as? String == findingsLabel }.count
            let fraction = Double(flagged) / Double(predictions.count)
            guard fraction >= 0.5 else { continue }
            found.append(
                try await recordFinding(
                    detector: detector, kind: "model", windowStart: w.start, latest: w.latest, rate: w.rate,
                    baseline: fraction, sigma: 0, z: 0,
                    readings: predictions.count, now: now,
                    extra: ["model": model, "label": findingsLabel, "fraction": (fraction * 1_000).rounded() / 1_000],
                    subject:
                        "Sensor finding: \(detector) — model \(model) labels \(flagged) of \(predictions.count) readings \(findingsLabel)"
                ))
        }
        return found
    }

    /// Stores a finding, publishes it to the findings topic and records whether that worked.
    func recordFinding(
        detector: String, kind: String, windowStart: Int64, latest: Int64, rate: Double, baseline: Double,
        sigma: Double, z: Double,
        readings: Int, now: Double, extra: [String: Any], subject: String
    ) async throws -> [String: Any] {
        var finding: [String: Any] = [
            "detector": detector, "kind": kind, "windowStart": Self.iso(windowStart), "windowEnd": Self.iso(latest),
            "rate": (rate * 1_000).rounded() / 1_000, "readings": readings,
        ]
        finding.merge(extra) { $1 }
        let id = try await database.write { db -> Int64 in
            try db.execute(
                sql: """
                    INSERT INTO findings (detector, kind, window_start, window_end, rate, baseline, baseline_std, z, readings, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [detector, kind, windowStart, latest, rate, baseline, sigma, z, readings, now])
            return db.lastInsertedRowID
        }
        finding["findingId"] = id
        let message = String(
            decoding: try JSONSerialization.data(withJSONObject: finding, options: [.sortedKeys]), as: UTF8.self)
        var messageID: String?
        var publishError: String?
        do {
            messageID = try await host.publish(
                topic: findingsTopic, subject: subject, message: message,
                attributes: ["event": "sensor-finding", "detector": detector])
        } catch {
            publishError = "\(error)"
            logger.warning("finding \(id) not published to \(findingsTopic): \(error)")
        }
        let (mid, perr) = (messageID, publishError)
        try await database.write { db in
            try db.execute(
                sql: "UPDATE findings SET message_id = ?, publish_error = ? WHERE id = ?", arguments: [mid, perr, id])
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
            try Row.fetchAll(
                db, sql: "SELECT * FROM findings WHERE ? IS NULL OR detector = ? ORDER BY id DESC LIMIT ?",
                arguments: [detector, detector, limit])
        }
        return Self.json(["findings": rows.map(Self.dictionary)])
    }
}
