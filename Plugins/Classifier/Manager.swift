import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Manager
extension ClassifierPlugin {
    func settings() async throws -> (mode: String, minNewLabels: Int) {
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") }
        let map = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as String, $0["value"] as String) })
        return (map["mode"] ?? "manual", Int(map["min_new_labels"] ?? "") ?? 50)
    }

    func manager() async throws -> FunctionResponse {
        let s = try await settings()
        let (labelled, used) = try await labelCounts()
        return Self.json([
            "mode": s.mode, "minNewLabels": s.minNewLabels, "labelledImages": labelled, "newLabels": labelled - used,
            "schedule": "rate(3 minutes)",
        ])
    }

    func setManager(_ request: FunctionRequest) async throws -> FunctionResponse {
        struct Body: Decodable {
            let mode: String?
            let min_new_labels: Int?
        }
        let body = try request.decode(Body.self)
        if let mode = body.mode, !["auto", "manual"].contains(mode) {
            throw FunctionError.badRequest("'mode' must be auto or manual")
        }
        if let n = body.min_new_labels, !(1...100_000).contains(n) {
            throw FunctionError.badRequest("'min_new_labels' must be from 1 to 100000")
        }
        try await database.write { db in
            if let mode = body.mode {
                try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'mode'", arguments: [mode])
            }
            if let n = body.min_new_labels {
                try db.execute(
                    sql: "UPDATE settings SET value = ? WHERE key = 'min_new_labels'", arguments: [String(n)])
            }
        }
        return try await manager()
    }

    /// Labelled images now, and how many the active image model was trained on.
    func labelCounts() async throws -> (labelled: Int, used: Int) {
        try await database.read { db in
            let labelled = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE label IS NOT NULL") ?? 0
            let used =
                try Int.fetchOne(db, sql: "SELECT MAX(rows) FROM models WHERE name = ?", arguments: [Self.imageModel])
                ?? 0
            return (labelled, used)
        }
    }

    /// Every 3 minutes: in auto mode, retrain the image model when at least `min_new_labels` labels arrived since the
    /// last version. Each decision, taken or not, is a training run with its reason, and a log line.
    func scheduledRetrain() async throws -> FunctionResponse {
        let s = try await settings()
        let (labelled, used) = try await labelCounts()
        let fresh = labelled - used
        var decision = "skipped"
        var reason: String
        var version: Int?
        if s.mode != "auto" {
            reason = "manager mode is manual"
        } else if fresh < s.minNewLabels {
            reason = "\(fresh) new labels since the last version; \(s.minNewLabels) needed"
        } else {
            do {
                var parameters = BoostingParameters()
                parameters.rounds = 40
                let trained = try await trainImages(
                    trigger: "schedule", parameters: parameters, folds: 3, activate: true)
                try await reloadActive()
                decision = "trained"
                version = trained.version
                reason =
                    "\(fresh) new labels (≥ \(s.minNewLabels)): version \(trained.version) on \(trained.rows) images, 3-fold accuracy \(String(format: "%.3f", trained.accuracy ?? 0))"
            } catch {
                decision = "failed"
                reason = "\(error)"
                Counter(label: "Plumb/Classifier/TrainingFailures", dimensions: [("Model", Self.imageModel)])
                    .increment()
            }
        }
        let now = Date().timeIntervalSince1970
        let (runVersion, runDecision, runReason) = (version, decision, reason)
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT INTO training_runs (model, trigger, decision, reason, version, ts) VALUES (?, 'schedule', ?, ?, ?, ?)",
                arguments: [Self.imageModel, runDecision, runReason, runVersion, now])
        }
        logger.info(
            "retrain check: \(decision): \(reason)",
            metadata: ["model": "\(Self.imageModel)", "decision": "\(decision)"])
        return Self.json(["decision": decision, "reason": reason, "version": version.map { $0 as Any } ?? NSNull()])
    }

    func trainingRuns(_ request: FunctionRequest) async throws -> FunctionResponse {
        let limit = try request.intQuery("limit", default: 50, range: 1...1_000)
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM training_runs ORDER BY id DESC LIMIT ?", arguments: [limit])
        }
        return Self.json([
            "runs": rows.map { row -> [String: Any] in
                [
                    "id": row["id"] as Int64, "model": row["model"] as String, "trigger": row["trigger"] as String,
                    "decision": row["decision"] as String, "reason": row["reason"] as String,
                    "version": (row["version"] as Int?) ?? NSNull(),
                    "time": Self.isoTime(row["ts"]),
                ]
            }
        ])
    }
}
