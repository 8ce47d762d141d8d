import Foundation
import GRDB
import Metrics
import PlumbKit

/// The model registry and the data sets, on the plugin's database and directory.
struct Store {
    let database: DatabasePool
    let directory: String

    /// One trained version, as the API shows it.
    struct Version {
        var name: String
        var version: Int
        var dataset: String
        var parameters: String
        var trainedAt: Double
        var trainSeconds: Double
        var folds: Int
        var accuracy: Double?
        var confusion: String
        var classes: String
        var rows: Int

        init(row: Row) {
            name = row["name"]
            version = row["version"]
            dataset = row["dataset"]
            parameters = row["parameters"]
            trainedAt = row["trained_at"]
            trainSeconds = row["train_seconds"]
            folds = row["folds"]
            accuracy = row["accuracy"]
            confusion = row["confusion"]
            classes = row["classes"]
            rows = row["rows"]
        }

        init(
            name: String, version: Int, dataset: String, parameters: String, trainedAt: Double, trainSeconds: Double,
            folds: Int,
            accuracy: Double?, confusion: String, classes: String, rows: Int
        ) {
            self.name = name
            self.version = version
            self.dataset = dataset
            self.parameters = parameters
            self.trainedAt = trainedAt
            self.trainSeconds = trainSeconds
            self.folds = folds
            self.accuracy = accuracy
            self.confusion = confusion
            self.classes = classes
            self.rows = rows
        }

        var json: [String: Any] {
            func parsed(_ text: String) -> Any {
                (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? NSNull()
            }
            return [
                "model": name, "version": version, "dataset": dataset, "parameters": parsed(parameters),
                "trainedAt": ClassifierPlugin.isoTime(trainedAt), "trainSeconds": trainSeconds, "folds": folds,
                "accuracy": accuracy ?? NSNull(), "confusionMatrix": parsed(confusion), "classes": parsed(classes),
                "rows": rows,
            ]
        }
    }

    func saveDataset(name: String, dataset: Dataset, csv: String) async throws {
        try FileManager.default.createDirectory(atPath: directory + "/datasets", withIntermediateDirectories: true)
        let path = "datasets/\(name).csv"
        try Data(csv.utf8).write(to: URL(fileURLWithPath: directory + "/" + path), options: .atomic)
        let features = String(decoding: try JSONEncoder().encode(dataset.featureNames), as: UTF8.self)
        let classes = String(decoding: try JSONEncoder().encode(Array(Set(dataset.labels)).sorted()), as: UTF8.self)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO datasets (name, label, features, classes, rows, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET label = excluded.label, features = excluded.features, classes = excluded.classes,
                        rows = excluded.rows, path = excluded.path, created_at = excluded.created_at
                    """,
                arguments: [
                    name, dataset.labelColumn, features, classes, dataset.rows.count, path,
                    Date().timeIntervalSince1970,
                ])
        }
    }

    func loadDataset(_ name: String) async throws -> Dataset {
        guard
            let row = try await database.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM datasets WHERE name = ?", arguments: [name])
            })
        else {
            throw FunctionError(
                status: 404, code: "DatasetNotFound",
                message: "no data set named '\(name)'; upload one with POST /apps/classifier/datasets")
        }
        let text = try String(contentsOfFile: directory + "/" + (row["path"] as String), encoding: .utf8)
        return try Dataset.parse(text, label: row["label"])
    }

    /// Cross-validates, trains on all rows, writes the model file, then the version row (and activates it), in that
    /// order: a crash leaves at most an unused file, never a version without its model.
    func train(
        model: String, datasetName: String, dataset: Dataset, parameters: BoostingParameters, folds: Int, activate: Bool
    ) async throws -> Version {
        let started = ContinuousClock.now
        let cv = CrossValidation.run(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames, parameters: parameters,
            folds: folds)
        let trained = BoostedModel.train(
            features: dataset.rows, labels: dataset.labels, featureNames: dataset.featureNames, parameters: parameters)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let next = try await database.read { db in
            (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM models WHERE name = ?", arguments: [model]) ?? 0) + 1
        }
        try FileManager.default.createDirectory(atPath: directory + "/models", withIntermediateDirectories: true)
        let path = "models/\(model)-v\(next).json"
        try JSONEncoder().encode(trained).write(to: URL(fileURLWithPath: directory + "/" + path), options: .atomic)
        let version = Version(
            name: model, version: next, dataset: datasetName,
            parameters: String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self),
            trainedAt: Date().timeIntervalSince1970, trainSeconds: seconds, folds: folds, accuracy: cv.accuracy,
            confusion: String(decoding: try JSONEncoder().encode(cv.confusion), as: UTF8.self),
            classes: String(decoding: try JSONEncoder().encode(cv.classes), as: UTF8.self), rows: dataset.rows.count)
        let features = String(decoding: try JSONEncoder().encode(dataset.featureNames), as: UTF8.self)
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO models (name, version, dataset, parameters, trained_at, train_seconds, folds, accuracy, confusion, classes, features, rows, path)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    model, next, datasetName, version.parameters, version.trainedAt, seconds, folds, cv.accuracy,
                    version.confusion, version.classes, features, dataset.rows.count, path,
                ])
            if activate { try Self.activate(db, model: model, version: next) }
        }
        Counter(label: "Plumb/Classifier/TrainingRuns", dimensions: [("Model", model)]).increment()
        // A run that succeeded: failures are 0 for it (not "no data").
        Counter(label: "Plumb/Classifier/TrainingFailures", dimensions: [("Model", model)]).increment(by: 0)
        if activate {
            Gauge(label: "Plumb/Classifier/ModelAccuracy", dimensions: [("Model", model)]).record(cv.accuracy)
        }
        return version
    }

    static func activate(_ db: Database, model: String, version: Int) throws {
        let current = try Int.fetchOne(db, sql: "SELECT version FROM active WHERE name = ?", arguments: [model])
        try db.execute(
            sql: """
                INSERT INTO active (name, version, previous) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET previous = active.version, version = excluded.version
                """, arguments: [model, version, current])
    }

    func activate(model: String, version: Int) async throws {
        let accuracy = try await database.write { db -> Double? in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT accuracy FROM models WHERE name = ? AND version = ?", arguments: [model, version])
            else {
                throw FunctionError(
                    status: 404, code: "ModelNotFound", message: "model '\(model)' has no version \(version)")
            }
            try Self.activate(db, model: model, version: version)
            return row["accuracy"]
        }
        if let accuracy {
            Gauge(label: "Plumb/Classifier/ModelAccuracy", dimensions: [("Model", model)]).record(accuracy)
        }
    }

    /// Activates the newest version older than the active one.
    func rollback(model: String) async throws -> Int {
        let target = try await database.read { db -> Int in
            guard
                let active = try Int.fetchOne(db, sql: "SELECT version FROM active WHERE name = ?", arguments: [model])
            else {
                throw FunctionError(
                    status: 404, code: "ModelNotFound", message: "model '\(model)' has no active version")
            }
            guard
                let older = try Int.fetchOne(
                    db, sql: "SELECT MAX(version) FROM models WHERE name = ? AND version < ?",
                    arguments: [model, active])
            else {
                throw FunctionError(
                    status: 409, code: "NothingToRollBackTo", message: "version \(active) of '\(model)' is the oldest")
            }
            return older
        }
        try await activate(model: model, version: target)
        return target
    }
}
