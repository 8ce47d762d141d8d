import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Datasets and models
extension ClassifierPlugin {
    func uploadDataset(_ request: FunctionRequest) async throws -> FunctionResponse {
        let name = request.query["name"] ?? ""
        guard Self.validName(name) else {
            throw FunctionError.badRequest("'name' is required: letters, digits, '_', '.' or '-'")
        }
        let label = request.query["label"] ?? "label"
        let text = String(decoding: request.body, as: UTF8.self)
        let dataset: Dataset
        do {
            dataset = try Dataset.parse(text, label: label)
        } catch let error as Dataset.ParseError {
            throw FunctionError.badRequest(error.message)
        }
        guard Set(dataset.labels).count >= 2 else {
            throw FunctionError.badRequest("the label column needs at least two classes")
        }
        try await store.saveDataset(name: name, dataset: dataset, csv: text)
        return Self.json(
            [
                "name": name, "rows": dataset.rows.count, "features": dataset.featureNames, "label": label,
                "classes": Array(Set(dataset.labels)).sorted(),
            ], status: 201)
    }

    func datasets() async throws -> FunctionResponse {
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY name") }
        return Self.json([
            "datasets": rows.map { row -> [String: Any] in
                [
                    "name": row["name"] as String, "label": row["label"] as String, "rows": row["rows"] as Int,
                    "features": (try? JSONSerialization.jsonObject(with: Data((row["features"] as String).utf8))) ?? [],
                    "classes": (try? JSONSerialization.jsonObject(with: Data((row["classes"] as String).utf8))) ?? [],
                    "created_at": Self.isoTime(row["created_at"]),
                ]
            }
        ])
    }

    struct TrainRequest: Decodable {
        let model: String
        let dataset: String?
        let parameters: BoostingParameters?
        let folds: Int?
        let activate: Bool?
    }

    func trainNow(_ request: FunctionRequest) async throws -> FunctionResponse {
        let body = try request.decode(TrainRequest.self)
        guard Self.validName(body.model) else { throw FunctionError.badRequest("'model' is not a valid model name") }
        let parameters = body.parameters ?? BoostingParameters()
        if let problem = parameters.validate() { throw FunctionError.badRequest(problem) }
        let folds = body.folds ?? 5
        guard (2...10).contains(folds) else { throw FunctionError.badRequest("'folds' must be from 2 to 10") }
        let version: Store.Version
        if body.model == Self.imageModel {
            version = try await trainImages(
                trigger: "manual", parameters: parameters, folds: folds, activate: body.activate ?? true)
        } else {
            let datasetName = body.dataset ?? body.model
            let dataset = try await store.loadDataset(datasetName)
            version = try await store.train(
                model: body.model, datasetName: datasetName, dataset: dataset, parameters: parameters, folds: folds,
                activate: body.activate ?? true)
        }
        try await reloadActive()
        return Self.json(version.json, status: 201)
    }

    func reloadActive() async throws {
        try await Self.loadActive(database: database, directory: directory, cache: cache)
    }

    func trainImages(
        trigger: String, parameters: BoostingParameters, folds: Int, activate: Bool
    ) async throws -> Store.Version {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT features, label FROM images WHERE label IS NOT NULL ORDER BY created_at, key")
        }
        let labels = rows.map { $0["label"] as String }
        guard rows.count >= 10, Set(labels).count >= 2 else {
            Counter(label: "Plumb/Classifier/TrainingFailures", dimensions: [("Model", Self.imageModel)]).increment()
            throw FunctionError.badRequest(
                "the image model needs at least 10 labelled images of at least 2 classes; there are \(rows.count)")
        }
        let features = try rows.map {
            try JSONDecoder().decode([Double].self, from: Data(($0["features"] as String).utf8))
        }
        let dataset = Dataset(featureNames: ImageFeatures.names, labelColumn: "label", rows: features, labels: labels)
        return try await store.train(
            model: Self.imageModel, datasetName: "labelled images", dataset: dataset, parameters: parameters,
            folds: folds, activate: activate)
    }

    func models() async throws -> FunctionResponse {
        let (rows, active) = try await database.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY name, version"),
                try Row.fetchAll(db, sql: "SELECT name, version FROM active")
            )
        }
        let activeVersion = Dictionary(
            uniqueKeysWithValues: active.map { ($0["name"] as String, $0["version"] as Int) })
        var byName: [String: [[String: Any]]] = [:]
        for row in rows { byName[row["name"], default: []].append(Store.Version(row: row).json) }
        return Self.json([
            "models": byName.keys.sorted().map { name -> [String: Any] in
                ["name": name, "activeVersion": activeVersion[name] ?? NSNull(), "versions": byName[name] ?? []]
            }
        ])
    }

    func promote(_ request: FunctionRequest) async throws -> FunctionResponse {
        let name = request.pathParameters["name"] ?? ""
        struct Body: Decodable { let version: Int }
        let version = try request.decode(Body.self).version
        try await store.activate(model: name, version: version)
        try await reloadActive()
        return Self.json(["model": name, "activeVersion": version])
    }

    func rollback(_ request: FunctionRequest) async throws -> FunctionResponse {
        let name = request.pathParameters["name"] ?? ""
        let version = try await store.rollback(model: name)
        try await reloadActive()
        return Self.json(["model": name, "activeVersion": version])
    }
}
