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
            try db.execute(
                sql: """
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
        let hasIris = try await context.database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM models WHERE name = 'iris'") ?? false
        }
        guard !hasIris else { return }
        let path =
            (context.settings["iris_csv"] ?? SharedFiles.locate("classifier", containing: "iris.csv") + "/iris.csv")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            context.logger.warning(
                "no iris data set at \(path): the iris model is not trained (scripts/setup.sh installs it)")
            return
        }
        let dataset = try Dataset.parse(text, label: "label")
        let store = Store(database: context.database, directory: context.dataDirectory)
        try await store.saveDataset(name: "iris", dataset: dataset, csv: text)
        let version = try await store.train(
            model: "iris", datasetName: "iris", dataset: dataset, parameters: BoostingParameters(), folds: 5,
            activate: true)
        context.logger.info(
            "trained the default model iris, version \(version.version), 5-fold accuracy \(version.accuracy ?? 0)")
    }

    static func loadActive(database: DatabasePool, directory: String, cache: ModelCache) async throws {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT m.name, m.version, m.path FROM active a JOIN models m ON m.name = a.name AND m.version = a.version"
            )
        }
        for row in rows {
            let path: String = row["path"]
            let model = try JSONDecoder().decode(
                BoostedModel.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/" + path)))
            cache.activate(row["name"], version: row["version"], loaded: model)
            Gauge(label: "Plumb/Classifier/ActiveVersion", dimensions: [("Model", row["name"])]).record(
                row["version"] as Int)
        }
    }

    var store: Store { Store(database: database, directory: directory) }

    /// Prediction counters and timers by model and class, made once (the factory's lookup is not free).
    final class Instruments: Sendable {
        static let shared = Instruments()
        private let counters = Mutex<[String: Counter]>([:])
        private let timers = Mutex<[String: Metrics.Timer]>([:])

        /// Predictions per model and class, and per model alone (what a dashboard of one model reads: a query names
        /// every dimension of the series it wants).
        func predicted(model: String, label: String, nanoseconds: Int64) {
            for (key, dimensions) in [
                (model + "\u{0}" + label, [("Model", model), ("Class", label)]), (model, [("Model", model)]),
            ] {
                let counter = counters.withLock { c in
                    if let existing = c[key] { return existing }
                    let made = Counter(label: "Plumb/Classifier/Predictions", dimensions: dimensions)
                    c[key] = made
                    return made
                }
                counter.increment()
            }
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
        .http(.post, "/datasets", name: "upload-dataset", access: .admin) { c, request, _ in
            try await c.uploadDataset(request)
        },
        .http(.get, "/datasets", name: "datasets") { c, _, _ in try await c.datasets() },
        .http(.post, "/train", name: "train", access: .admin) { c, request, _ in try await c.trainNow(request) },
        .http(.get, "/models", name: "models") { c, _, _ in try await c.models() },
        .http(.post, "/models/{name}/promote", name: "promote", access: .admin) { c, request, _ in
            try await c.promote(request)
        },
        .http(.post, "/models/{name}/rollback", name: "rollback", access: .admin) { c, request, _ in
            try await c.rollback(request)
        },
        .http(.post, "/images/{key}", name: "upload-image") { c, request, _ in try await c.uploadImage(request) },
        .http(.get, "/images", name: "images") { c, request, _ in try await c.listImages(request) },
        .http(.get, "/images/{key}", name: "image") { c, request, _ in try await c.image(request) },
        .http(.get, "/images/{key}/raw", name: "image-raw") { c, request, _ in try await c.imageRaw(request) },
        .http(.put, "/images/{key}/label", name: "label-image", access: .admin) { c, request, _ in
            try await c.labelImage(request)
        },
        .http(.get, "/manager", name: "manager") { c, _, _ in try await c.manager() },
        .http(.put, "/manager", name: "set-manager", access: .admin) { c, request, _ in try await c.setManager(request)
        },
        .http(.get, "/training-runs", name: "training-runs") { c, request, _ in try await c.trainingRuns(request) },
        .scheduled("rate(3 minutes)", name: "retrain") { c, _, _ in try await c.scheduledRetrain() },
    ]

    static func json(_ object: Any, status: Int = 200) -> FunctionResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return FunctionResponse(status: status, headers: ["content-type": "application/json"], body: Array(data))
    }

    static func isoTime(_ seconds: Double) -> String { RFC3339.format(seconds) }

    static func validName(_ text: String, max: Int = 100) -> Bool {
        !text.isEmpty && text.count <= max
            && text.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)
            }
    }
}
