import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

/// The classification service: tabular models (iris) with predict and retrieve, and an image model that users feed
/// and a manager labels and retrains, by hand or on a 3-minute schedule.
///
/// Routes under `/apps/classifier` (admin = needs the admin token):
/// - `POST /predict` `{"x1": 6.7, …}` → `{"id", "prediction", "label", "probabilities", "model", "version", "timestamp"}`
///   (`?model=`, default `iris`); `POST /predict/batch?model=` (CSV); `GET /predictions?model=&start=&end=&after=&limit=`
/// - `POST /datasets?name=&label=` (admin, CSV), `GET /datasets`
/// - `POST /train` (admin) `{"model", "dataset", "parameters", "folds", "activate"}`; `GET /models`;
///   `POST /models/{name}/promote {"version"}` and `POST /models/{name}/rollback` (admin)
/// - `POST /images/{key}` (PNG/JPEG), `GET /images?class=&key=&after=&limit=`, `GET /images/{key}`, `GET /images/{key}/raw`,
///   `PUT /images/{key}/label {"label"}` (admin)
/// - `GET /manager`, `PUT /manager {"mode": "auto"|"manual", "min_new_labels"}` (admin), `GET /training-runs`;
///   the scheduled function `retrain` (`rate(3 minutes)`) retrains the image model in auto mode.
public struct ClassifierPlugin: Plugin {
    public static let name = "classifier"
    public static let imageModel = "images"
    public static let maxImageBytes = 1_000_000
    public static let maxImagePixels = 4_000_000
    static let maxBatchRows = 10_000

    let database: DatabasePool
    let directory: String
    let cache: ModelCache
    let writer: PredictionWriter
    let logger: Logger
    let instruments: Instruments

    public init(context: PluginContext) async throws {
        database = context.database
        directory = context.dataDirectory
        cache = ModelCache.shared(for: context.dataDirectory)
        writer = PredictionWriter.shared(for: context.dataDirectory, database: context.database)
        logger = context.logger
        instruments = Instruments.shared
        try await Self.loadActive(database: database, directory: directory, cache: cache)
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("classifier-v1") { db in
            try db.execute(sql: """
                CREATE TABLE datasets (name TEXT PRIMARY KEY, label TEXT NOT NULL, features TEXT NOT NULL, classes TEXT NOT NULL,
                    rows INTEGER NOT NULL, path TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE models (name TEXT NOT NULL, version INTEGER NOT NULL, dataset TEXT NOT NULL, parameters TEXT NOT NULL,
                    trained_at REAL NOT NULL, train_seconds REAL NOT NULL, folds INTEGER NOT NULL, accuracy REAL,
                    confusion TEXT NOT NULL, classes TEXT NOT NULL, features TEXT NOT NULL, rows INTEGER NOT NULL,
                    path TEXT NOT NULL, PRIMARY KEY (name, version));
                CREATE TABLE active (name TEXT PRIMARY KEY, version INTEGER NOT NULL, previous INTEGER);
                CREATE TABLE predictions (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, version INTEGER NOT NULL,
                    input TEXT NOT NULL, label TEXT NOT NULL, probabilities TEXT NOT NULL, ts REAL NOT NULL);
                CREATE INDEX predictions_ts ON predictions(model, ts);
                CREATE TABLE images (key TEXT PRIMARY KEY, content_type TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
                    bytes INTEGER NOT NULL, path TEXT NOT NULL, features TEXT NOT NULL, predicted TEXT, confidence REAL,
                    model_version INTEGER, label TEXT, labelled_at REAL, created_at REAL NOT NULL);
                CREATE INDEX images_predicted ON images(predicted);
                CREATE INDEX images_label ON images(label);
                CREATE TABLE training_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, trigger TEXT NOT NULL,
                    decision TEXT NOT NULL, reason TEXT NOT NULL, version INTEGER, ts REAL NOT NULL);
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO settings VALUES ('mode', 'manual'), ('min_new_labels', '50');
                """)
        }
    ]

    /// Trains the default model `iris` from `share/plumb/classifier/iris.csv` at the first start, so predict works
    /// out of the box.
    public static func prepare(context: PluginContext) async throws {
        let hasIris = try await context.database.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM models WHERE name = 'iris'") ?? false }
        guard !hasIris else { return }
        let path = (context.settings["iris_csv"] ?? SharedFiles.locate("classifier", containing: "iris.csv") + "/iris.csv")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            context.logger.warning("no iris data set at \(path): the iris model is not trained (scripts/setup.sh installs it)")
            return
        }
        let dataset = try Dataset.parse(text, label: "label")
        let store = Store(database: context.database, directory: context.dataDirectory)
        try await store.saveDataset(name: "iris", dataset: dataset, csv: text)
        let version = try await store.train(model: "iris", datasetName: "iris", dataset: dataset, parameters: BoostingParameters(), folds: 5, activate: true)
        context.logger.info("trained the default model iris, version \(version.version), 5-fold accuracy \(version.accuracy ?? 0)")
    }

    static func loadActive(database: DatabasePool, directory: String, cache: ModelCache) async throws {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT m.name, m.version, m.path FROM active a JOIN models m ON m.name = a.name AND m.version = a.version")
        }
        for row in rows {
            let path: String = row["path"]
            let model = try JSONDecoder().decode(BoostedModel.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + path)))
            cache.activate(row["name"], version: row["version"], loaded: model)
            Gauge(label: "Plumb/Classifier/ActiveVersion", dimensions: [("Model", row["name"])]).record(row["version"] as Int)
        }
    }

    var store: Store { Store(database: database, directory: directory) }

    /// Prediction counters and timers by model and class, made once (the factory's lookup is not free).
    final class Instruments: Sendable {
        static let shared = Instruments()
        private let counters = Mutex<[String: Counter]>([:])
        private let timers = Mutex<[String: Metrics.Timer]>([:])

        func predicted(model: String, label: String, nanoseconds: Int64) {
            let key = model + "\u{0}" + label
            let counter = counters.withLock { c in
                if let existing = c[key] { return existing }
                let made = Counter(label: "Plumb/Classifier/Predictions", dimensions: [("Model", model), ("Class", label)])
                c[key] = made
                return made
            }
            counter.increment()
            let timer = timers.withLock { t in
                if let existing = t[model] { return existing }
                let made = Metrics.Timer(label: "Plumb/Classifier/PredictionLatency", dimensions: [("Model", model)])
                t[model] = made
                return made
            }
            timer.recordNanoseconds(nanoseconds)
        }
    }

    public static let functions: [Function<ClassifierPlugin>] = [
        .http(.post, "/predict", name: "predict") { c, request, _ in try await c.predict(request) },
        .http(.post, "/predict/batch", name: "predict-batch") { c, request, _ in try await c.predictBatch(request) },
        .http(.get, "/predictions", name: "predictions") { c, request, _ in try await c.predictions(request) },
        .http(.post, "/datasets", name: "upload-dataset", admin: true) { c, request, _ in try await c.uploadDataset(request) },
        .http(.get, "/datasets", name: "datasets") { c, _, _ in try await c.datasets() },
        .http(.post, "/train", name: "train", admin: true) { c, request, _ in try await c.trainNow(request) },
        .http(.get, "/models", name: "models") { c, _, _ in try await c.models() },
        .http(.post, "/models/{name}/promote", name: "promote", admin: true) { c, request, _ in try await c.promote(request) },
        .http(.post, "/models/{name}/rollback", name: "rollback", admin: true) { c, request, _ in try await c.rollback(request) },
        .http(.post, "/images/{key}", name: "upload-image") { c, request, _ in try await c.uploadImage(request) },
        .http(.get, "/images", name: "images") { c, request, _ in try await c.listImages(request) },
        .http(.get, "/images/{key}", name: "image") { c, request, _ in try await c.image(request) },
        .http(.get, "/images/{key}/raw", name: "image-raw") { c, request, _ in try await c.imageRaw(request) },
        .http(.put, "/images/{key}/label", name: "label-image", admin: true) { c, request, _ in try await c.labelImage(request) },
        .http(.get, "/manager", name: "manager") { c, _, _ in try await c.manager() },
        .http(.put, "/manager", name: "set-manager", admin: true) { c, request, _ in try await c.setManager(request) },
        .http(.get, "/training-runs", name: "training-runs") { c, request, _ in try await c.trainingRuns(request) },
        .scheduled("rate(3 minutes)", name: "retrain") { c, _, _ in try await c.scheduledRetrain() },
    ]

    static func json(_ object: Any, status: Int = 200) -> FunctionResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return FunctionResponse(status: status, headers: ["content-type": "application/json"], body: Array(data))
    }

    static func isoTime(_ seconds: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func validName(_ text: String, max: Int = 100) -> Bool {
        !text.isEmpty && text.count <= max && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0) }
    }

    // MARK: - Prediction

    func activeModel(_ request: FunctionRequest) throws -> (name: String, version: Int, model: BoostedModel) {
        let name = request.query["model"] ?? "iris"
        guard Self.validName(name) else { throw FunctionError.badRequest("'model' is not a valid model name") }
        guard let (version, model) = cache.active(name) else {
            throw FunctionError(status: 404, code: "ModelNotFound", message: "no active model named '\(name)'; train one with POST /apps/classifier/train")
        }
        return (name, version, model)
    }

    /// The feature vector of a JSON object in the model's feature order; unknown, missing or non-numeric values are 400s.
    static func vector(_ body: [UInt8], features: [String]) throws -> [Double] {
        let object: [String: Double]
        do {
            object = try JSONDecoder().decode([String: Double].self, from: Data(body))
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let name = context.codingPath.last?.stringValue ?? "?"
            throw FunctionError.badRequest("feature '\(name)' must be a finite number")
        } catch {
            throw FunctionError.badRequest("the body must be a JSON object of features, e.g. {\"x1\": 6.7, \"x2\": 3.3, \"x3\": 5.7, \"x4\": 2.5}")
        }
        if let unknown = object.keys.filter({ !features.contains($0) }).sorted().first {
            throw FunctionError.badRequest("unknown feature '\(unknown)'; the model takes \(features.joined(separator: ", "))")
        }
        return try features.map { name in
            guard let value = object[name] else { throw FunctionError.badRequest("feature '\(name)' is missing; the model takes \(features.joined(separator: ", "))") }
            guard value.isFinite else { throw FunctionError.badRequest("feature '\(name)' must be a finite number") }
            return value
        }
    }

    func predict(_ request: FunctionRequest) async throws -> FunctionResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        let (name, version, model) = try activeModel(request)
        let x = try Self.vector(request.body, features: model.features)
        let probabilities = model.probabilities(x)
        var best = 0
        for c in probabilities.indices where probabilities[c] > probabilities[best] { best = c }
        let label = model.classes[best]
        let now = Date().timeIntervalSince1970
        // Hand-built JSON: this is the hot path (JSONSerialization costs more than the model).
        let input = Self.jsonObject(keys: model.features, values: x.map { "\($0)" })
        let probabilitiesText = Self.jsonObject(keys: model.classes, values: probabilities.map { "\(($0 * 1e6).rounded() / 1e6)" })
        let id = try await writer.insert(.init(model: name, version: version, input: input, label: label, probabilities: probabilitiesText, timestamp: now))
        instruments.predicted(model: name, label: label, nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
        var body = "{\"id\":\(id),\"label\":"
        Self.appendString(label, to: &body)
        body += ",\"model\":"
        Self.appendString(name, to: &body)
        body += ",\"prediction\":\(best),\"probabilities\":\(probabilitiesText),\"timestamp\":\"\(Self.fastISOTime(now))\",\"version\":\(version)}"
        return FunctionResponse(status: 200, headers: ["content-type": "application/json"], body: Array(body.utf8))
    }

    /// `{"k1":v1,...}` with string keys and already-formatted JSON values.
    static func jsonObject(keys: [String], values: [String]) -> String {
        var out = "{"
        for (i, key) in keys.enumerated() {
            if i > 0 { out += "," }
            appendString(key, to: &out)
            out += ":" + values[i]
        }
        return out + "}"
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// RFC 3339 UTC with milliseconds, without a formatter object.
    static func fastISOTime(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((seconds - seconds.rounded(.down)) * 1_000)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    func predictBatch(_ request: FunctionRequest) async throws -> FunctionResponse {
        let (name, version, model) = try activeModel(request)
        let dataset: Dataset
        do {
            dataset = try Dataset.parse(String(decoding: request.body, as: UTF8.self), label: nil, expectedFeatures: model.features)
        } catch let error as Dataset.ParseError {
            throw FunctionError.badRequest(error.message)
        }
        guard dataset.rows.count <= Self.maxBatchRows else { throw FunctionError(status: 413, code: "TooManyRows", message: "at most \(Self.maxBatchRows) rows per batch") }
        let now = Date().timeIntervalSince1970
        var pending: [PredictionWriter.Pending] = []
        var results: [[String: Any]] = []
        for x in dataset.rows {
            let p = model.probabilities(x)
            var best = 0
            for c in p.indices where p[c] > p[best] { best = c }
            let probabilities = Dictionary(uniqueKeysWithValues: zip(model.classes, p.map { ($0 * 1e6).rounded() / 1e6 }))
            let input = String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: zip(model.features, x)), options: [.sortedKeys]), as: UTF8.self)
            pending.append(.init(
                model: name, version: version, input: input, label: model.classes[best],
                probabilities: String(decoding: try JSONSerialization.data(withJSONObject: probabilities, options: [.sortedKeys]), as: UTF8.self),
                timestamp: now))
            results.append(["prediction": best, "label": model.classes[best], "probabilities": probabilities])
            Counter(label: "Plumb/Classifier/Predictions", dimensions: [("Model", name), ("Class", model.classes[best])]).increment()
        }
        let ids = try await writer.insertAll(pending)
        for i in results.indices { results[i]["id"] = ids[i] }
        return Self.json(["model": name, "version": version, "timestamp": Self.isoTime(now), "predictions": results])
    }

    static func time(_ text: String?, name: String) throws -> Double? {
        guard let text else { return nil }
        if let seconds = Double(text) { return seconds }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        throw FunctionError.badRequest("'\(name)' must be epoch seconds or an RFC 3339 time")
    }

    func predictions(_ request: FunctionRequest) async throws -> FunctionResponse {
        let model = request.query["model"] ?? "iris"
        guard Self.validName(model) else { throw FunctionError.badRequest("'model' is not a valid model name") }
        let start = try Self.time(request.query["start"], name: "start") ?? 0
        let end = try Self.time(request.query["end"], name: "end") ?? Double.greatestFiniteMagnitude
        guard start <= end else { throw FunctionError.badRequest("'start' is after 'end'") }
        let limit = try request.intQuery("limit", default: 100, range: 1...1_000)
        let after = Int64(try request.intQuery("after", default: 0, range: 0...Int.max))
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM predictions WHERE model = ? AND ts >= ? AND ts <= ? AND id > ? ORDER BY id LIMIT ?
                """, arguments: [model, start, end, after, limit + 1])
        }
        let items: [[String: Any]] = rows.prefix(limit).map { row in
            [
                "id": row["id"] as Int64, "model": row["model"] as String, "version": row["version"] as Int, "label": row["label"] as String,
                "input": (try? JSONSerialization.jsonObject(with: Data((row["input"] as String).utf8))) ?? [:],
                "probabilities": (try? JSONSerialization.jsonObject(with: Data((row["probabilities"] as String).utf8))) ?? [:],
                "timestamp": Self.isoTime(row["ts"]),
            ]
        }
        var body: [String: Any] = ["items": items]
        body["next"] = rows.count > limit ? (items.last?["id"] ?? NSNull()) : NSNull()
        return Self.json(body)
    }

    // MARK: - Datasets and models

    func uploadDataset(_ request: FunctionRequest) async throws -> FunctionResponse {
        let name = request.query["name"] ?? ""
        guard Self.validName(name) else { throw FunctionError.badRequest("'name' is required: letters, digits, '_', '.' or '-'") }
        let label = request.query["label"] ?? "label"
        let text = String(decoding: request.body, as: UTF8.self)
        let dataset: Dataset
        do {
            dataset = try Dataset.parse(text, label: label)
        } catch let error as Dataset.ParseError {
            throw FunctionError.badRequest(error.message)
        }
        guard Set(dataset.labels).count >= 2 else { throw FunctionError.badRequest("the label column needs at least two classes") }
        try await store.saveDataset(name: name, dataset: dataset, csv: text)
        return Self.json([
            "name": name, "rows": dataset.rows.count, "features": dataset.featureNames, "label": label,
            "classes": Array(Set(dataset.labels)).sorted(),
        ], status: 201)
    }

    func datasets() async throws -> FunctionResponse {
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM datasets ORDER BY name") }
        return Self.json(["datasets": rows.map { row -> [String: Any] in
            [
                "name": row["name"] as String, "label": row["label"] as String, "rows": row["rows"] as Int,
                "features": (try? JSONSerialization.jsonObject(with: Data((row["features"] as String).utf8))) ?? [],
                "classes": (try? JSONSerialization.jsonObject(with: Data((row["classes"] as String).utf8))) ?? [],
                "created_at": Self.isoTime(row["created_at"]),
            ]
        }])
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
            version = try await trainImages(trigger: "manual", parameters: parameters, folds: folds, activate: body.activate ?? true)
        } else {
            let datasetName = body.dataset ?? body.model
            let dataset = try await store.loadDataset(datasetName)
            version = try await store.train(model: body.model, datasetName: datasetName, dataset: dataset, parameters: parameters, folds: folds, activate: body.activate ?? true)
        }
        try await reloadActive()
        return Self.json(version.json, status: 201)
    }

    func reloadActive() async throws { try await Self.loadActive(database: database, directory: directory, cache: cache) }

    func trainImages(trigger: String, parameters: BoostingParameters, folds: Int, activate: Bool) async throws -> Store.Version {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT features, label FROM images WHERE label IS NOT NULL ORDER BY created_at, key")
        }
        let labels = rows.map { $0["label"] as String }
        guard rows.count >= 10, Set(labels).count >= 2 else {
            Counter(label: "Plumb/Classifier/TrainingFailures", dimensions: [("Model", Self.imageModel)]).increment()
            throw FunctionError.badRequest("the image model needs at least 10 labelled images of at least 2 classes; there are \(rows.count)")
        }
        let features = try rows.map { try JSONDecoder().decode([Double].self, from: Data(($0["features"] as String).utf8)) }
        let dataset = Dataset(featureNames: ImageFeatures.names, labelColumn: "label", rows: features, labels: labels)
        return try await store.train(model: Self.imageModel, datasetName: "labelled images", dataset: dataset, parameters: parameters, folds: folds, activate: activate)
    }

    func models() async throws -> FunctionResponse {
        let (rows, active) = try await database.read { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM models ORDER BY name, version"),
             try Row.fetchAll(db, sql: "SELECT name, version FROM active"))
        }
        let activeVersion = Dictionary(uniqueKeysWithValues: active.map { ($0["name"] as String, $0["version"] as Int) })
        var byName: [String: [[String: Any]]] = [:]
        for row in rows { byName[row["name"], default: []].append(Store.Version(row: row).json) }
        return Self.json(["models": byName.keys.sorted().map { name -> [String: Any] in
            ["name": name, "activeVersion": activeVersion[name] ?? NSNull(), "versions": byName[name] ?? []]
        }])
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

    // MARK: - Images

    func uploadImage(_ request: FunctionRequest) async throws -> FunctionResponse {
        let key = request.pathParameters["key"] ?? ""
        guard Self.validName(key) else { throw FunctionError.badRequest("the key must be 1–100 letters, digits, '_', '.' or '-'") }
        guard request.body.count <= Self.maxImageBytes else {
            throw FunctionError(status: 413, code: "ImageTooLarge", message: "images are limited to \(Self.maxImageBytes) bytes")
        }
        let image: DecodedImage
        let format: DecodedImage.Format
        do {
            (image, format) = try DecodedImage.decode(request.body, maxPixels: Self.maxImagePixels)
        } catch let error as DecodedImage.DecodeError {
            throw FunctionError(status: error.status, code: error.status == 415 ? "UnsupportedMediaType" : error.status == 413 ? "ImageTooLarge" : "BadImage", message: error.message)
        }
        let features = ImageFeatures.compute(image)
        var predicted: String?
        var confidence: Double?
        var modelVersion: Int?
        if let (version, model) = cache.active(Self.imageModel) {
            let p = model.probabilities(features)
            var best = 0
            for c in p.indices where p[c] > p[best] { best = c }
            predicted = model.classes[best]
            confidence = p[best]
            modelVersion = version
        }
        let blob = "images/\(key).\(format == .png ? "png" : "jpg")"
        let now = Date().timeIntervalSince1970
        let exists = try await database.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE key = ?", arguments: [key]) ?? false }
        guard !exists else { throw FunctionError(status: 409, code: "KeyExists", message: "an image with key '\(key)' exists") }
        try FileManager.default.createDirectory(atPath: directory + "/images", withIntermediateDirectories: true)
        // The file first, then the row: a crash between them leaves an orphan file, never a row without its image.
        try Data(request.body).write(to: URL(fileURLWithPath: directory + "/" + blob), options: .atomic)
        let featureText = String(decoding: try JSONEncoder().encode(features), as: UTF8.self)
        let (cls, conf, ver) = (predicted, confidence, modelVersion)
        do {
            try await database.write { db in
                try db.execute(sql: """
                    INSERT INTO images (key, content_type, width, height, bytes, path, features, predicted, confidence, model_version, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [key, format.rawValue, image.width, image.height, request.body.count, blob, featureText, cls, conf, ver, now])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw FunctionError(status: 409, code: "KeyExists", message: "an image with key '\(key)' exists")
        }
        return Self.json(Self.imageJSON(
            key: key, contentType: format.rawValue, width: image.width, height: image.height, bytes: request.body.count,
            predicted: predicted, confidence: confidence, version: modelVersion, label: nil, createdAt: now), status: 201)
    }

    static func imageJSON(
        key: String, contentType: String, width: Int, height: Int, bytes: Int, predicted: String?, confidence: Double?, version: Int?,
        label: String?, createdAt: Double
    ) -> [String: Any] {
        [
            "key": key, "contentType": contentType, "width": width, "height": height, "bytes": bytes,
            "class": predicted ?? NSNull(), "confidence": confidence ?? NSNull(), "modelVersion": version ?? NSNull(),
            "label": label ?? NSNull(), "createdAt": isoTime(createdAt),
        ]
    }

    static func imageJSON(_ row: Row) -> [String: Any] {
        imageJSON(
            key: row["key"], contentType: row["content_type"], width: row["width"], height: row["height"], bytes: row["bytes"],
            predicted: row["predicted"], confidence: row["confidence"], version: row["model_version"], label: row["label"], createdAt: row["created_at"])
    }

    func listImages(_ request: FunctionRequest) async throws -> FunctionResponse {
        let limit = try request.intQuery("limit", default: 100, range: 1...1_000)
        let after = request.query["after"] ?? ""
        var conditions = ["key > ?"]
        var arguments: [any DatabaseValueConvertible] = [after]
        if let cls = request.query["class"] {
            conditions.append("COALESCE(label, predicted) = ?")
            arguments.append(cls)
        }
        if let key = request.query["key"] {
            guard key.count <= 100 else { throw FunctionError.badRequest("'key' is longer than 100 characters") }
            conditions.append("instr(key, ?) > 0")
            arguments.append(key)
        }
        arguments.append(limit + 1)
        let sql = "SELECT * FROM images WHERE \(conditions.joined(separator: " AND ")) ORDER BY key LIMIT ?"
        let rows = try await database.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
        let items = rows.prefix(limit).map(Self.imageJSON)
        var body: [String: Any] = ["items": items]
        body["next"] = rows.count > limit ? (items.last?["key"] ?? NSNull()) : NSNull()
        return Self.json(body)
    }

    func imageRow(_ request: FunctionRequest) async throws -> Row {
        let key = request.pathParameters["key"] ?? ""
        guard let row = try await database.read({ db in try Row.fetchOne(db, sql: "SELECT * FROM images WHERE key = ?", arguments: [key]) }) else {
            throw FunctionError(status: 404, code: "NotFound", message: "no image with key '\(key)'")
        }
        return row
    }

    func image(_ request: FunctionRequest) async throws -> FunctionResponse { Self.json(Self.imageJSON(try await imageRow(request))) }

    func imageRaw(_ request: FunctionRequest) async throws -> FunctionResponse {
        let row = try await imageRow(request)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + (row["path"] as String)))
        return FunctionResponse(status: 200, headers: ["content-type": row["content_type"]], body: Array(data))
    }

    func labelImage(_ request: FunctionRequest) async throws -> FunctionResponse {
        let key = request.pathParameters["key"] ?? ""
        struct Body: Decodable { let label: String }
        let label = try request.decode(Body.self).label.trimmingCharacters(in: .whitespaces)
        guard Self.validName(label, max: 64) else { throw FunctionError.badRequest("'label' must be 1–64 letters, digits, '_', '.' or '-'") }
        let changed = try await database.write { db -> Int in
            try db.execute(sql: "UPDATE images SET label = ?, labelled_at = ? WHERE key = ?", arguments: [label, Date().timeIntervalSince1970, key])
            return db.changesCount
        }
        guard changed == 1 else { throw FunctionError(status: 404, code: "NotFound", message: "no image with key '\(key)'") }
        return Self.json(Self.imageJSON(try await imageRow(request)))
    }

    // MARK: - Manager

    func settings() async throws -> (mode: String, minNewLabels: Int) {
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT key, value FROM settings") }
        let map = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as String, $0["value"] as String) })
        return (map["mode"] ?? "manual", Int(map["min_new_labels"] ?? "") ?? 50)
    }

    func manager() async throws -> FunctionResponse {
        let s = try await settings()
        let (labelled, used) = try await labelCounts()
        return Self.json(["mode": s.mode, "minNewLabels": s.minNewLabels, "labelledImages": labelled, "newLabels": labelled - used, "schedule": "rate(3 minutes)"])
    }

    func setManager(_ request: FunctionRequest) async throws -> FunctionResponse {
        struct Body: Decodable {
            let mode: String?
            let min_new_labels: Int?
        }
        let body = try request.decode(Body.self)
        if let mode = body.mode, !["auto", "manual"].contains(mode) { throw FunctionError.badRequest("'mode' must be auto or manual") }
        if let n = body.min_new_labels, !(1...100_000).contains(n) { throw FunctionError.badRequest("'min_new_labels' must be from 1 to 100000") }
        try await database.write { db in
            if let mode = body.mode { try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'mode'", arguments: [mode]) }
            if let n = body.min_new_labels { try db.execute(sql: "UPDATE settings SET value = ? WHERE key = 'min_new_labels'", arguments: [String(n)]) }
        }
        return try await manager()
    }

    /// Labelled images now, and how many the active image model was trained on.
    func labelCounts() async throws -> (labelled: Int, used: Int) {
        try await database.read { db in
            let labelled = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE label IS NOT NULL") ?? 0
            let used = try Int.fetchOne(db, sql: "SELECT MAX(rows) FROM models WHERE name = ?", arguments: [Self.imageModel]) ?? 0
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
                let trained = try await trainImages(trigger: "schedule", parameters: parameters, folds: 3, activate: true)
                try await reloadActive()
                decision = "trained"
                version = trained.version
                reason = "\(fresh) new labels (≥ \(s.minNewLabels)): version \(trained.version) on \(trained.rows) images, 3-fold accuracy \(String(format: "%.3f", trained.accuracy ?? 0))"
            } catch {
                decision = "failed"
                reason = "\(error)"
                Counter(label: "Plumb/Classifier/TrainingFailures", dimensions: [("Model", Self.imageModel)]).increment()
            }
        }
        let now = Date().timeIntervalSince1970
        let (runVersion, runDecision, runReason) = (version, decision, reason)
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO training_runs (model, trigger, decision, reason, version, ts) VALUES (?, 'schedule', ?, ?, ?, ?)",
                arguments: [Self.imageModel, runDecision, runReason, runVersion, now])
        }
        logger.info("retrain check: \(decision): \(reason)", metadata: ["model": "\(Self.imageModel)", "decision": "\(decision)"])
        return Self.json(["decision": decision, "reason": reason, "version": version.map { $0 as Any } ?? NSNull()])
    }

    func trainingRuns(_ request: FunctionRequest) async throws -> FunctionResponse {
        let limit = try request.intQuery("limit", default: 50, range: 1...1_000)
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM training_runs ORDER BY id DESC LIMIT ?", arguments: [limit]) }
        return Self.json(["runs": rows.map { row -> [String: Any] in
            [
                "id": row["id"] as Int64, "model": row["model"] as String, "trigger": row["trigger"] as String,
                "decision": row["decision"] as String, "reason": row["reason"] as String, "version": (row["version"] as Int?) ?? NSNull(),
                "time": Self.isoTime(row["ts"]),
            ]
        }])
    }
}
