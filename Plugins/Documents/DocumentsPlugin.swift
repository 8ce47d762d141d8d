import Crypto
import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

/// The document service: upload plain-text files, see the named entities of each as a word cloud, and let k-means
/// sort the files into categories named by their top terms.
///
/// Routes (under `/apps/documents`): `POST /files?name=`, `GET /files?category=`, `GET /files/{id}`,
/// `DELETE /files/{id}`, `GET /files/{id}/entities`, `GET /files/{id}/wordcloud.svg`, `POST /cluster`,
/// `GET /categories`; the scheduled `nightly-cluster`.
public struct DocumentsPlugin: Plugin {
    public static let name = "documents"

    let database: DatabasePool
    let dataDirectory: String
    let blobs: any BlobStoring
    let logger: Logger
    let extractor: EntityExtractor
    /// Largest accepted file, in bytes (`max_bytes`, 1 MiB).
    let maxBytes: Int
    /// The range k is chosen from by silhouette when a clustering does not name one (`k_min`, `k_max`).
    let kRange: ClosedRange<Int>
    let seed: UInt64

    public init(context: PluginContext) async throws {
        database = context.database
        dataDirectory = context.dataDirectory
        blobs = context.blobs
        logger = context.logger
        extractor = Self.extractors.get("dictionary") {
            EntityExtractor(commonWords: EntityExtractor.systemDictionary())
        }
        maxBytes = try context.setting("max_bytes", default: 1_048_576, range: 1...16_777_216)
        let kMin = try context.setting("k_min", default: 2, range: 2...100)
        let kMax = try context.setting("k_max", default: 8, range: 2...100)
        guard kMin >= 2, kMax >= kMin else {
            throw FunctionError(
                status: 500, code: "ConfigurationError",
                message: "plugins.documents.k_min must be at least 2 and k_max at least k_min")
        }
        kRange = kMin...kMax
        seed = UInt64(context.settings["seed"] ?? "") ?? 42
        if extractor.commonWords.isEmpty {
            context.logger.warning(
                "no /usr/share/dict/words (Debian's wamerican): sentence-initial common words are recognised by the built-in lists only"
            )
        }
    }

    static let extractors = SharedInstances<EntityExtractor>()

    public static let migrations: [PluginMigration] = [
        PluginMigration("documents-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE files (id TEXT PRIMARY KEY, name TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
                        created_at REAL NOT NULL, category INTEGER, entities TEXT NOT NULL);
                    CREATE INDEX files_category ON files(category);
                    CREATE TABLE clustering (id INTEGER PRIMARY KEY CHECK (id = 1), computed_at REAL NOT NULL, k INTEGER NOT NULL,
                        inertia REAL NOT NULL, silhouette REAL NOT NULL, model TEXT NOT NULL);
                    CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL, terms TEXT NOT NULL);
                    """)
        },
        // Each file's object lives under its category's name (`documents/<category>/<id>.txt`), as the seed system
        // stored files under their category; the row names where.
        PluginMigration("documents-v2-object-keys") { db in
            try db.execute(
                sql: """
                    ALTER TABLE files ADD COLUMN object TEXT;
                    UPDATE files SET object = 'documents/' || id || '.txt';
                    """)
        },
    ]

    public static let functions: [Function<DocumentsPlugin>] = [
        .http(.post, "/files", name: "upload", access: .user) { s, r, _ in try await s.upload(r) },
        .http(.get, "/files", name: "list") { s, r, _ in try await s.list(r) },
        .http(.get, "/files/{id}", name: "download") { s, r, _ in try await s.download(r) },
        .http(.delete, "/files/{id}", name: "delete", access: .user) { s, r, _ in try await s.delete(r) },
        .http(.get, "/files/{id}/entities", name: "entities") { s, r, _ in try await s.entities(r) },
        .http(.get, "/files/{id}/wordcloud.svg", name: "wordcloud") { s, r, _ in try await s.wordCloud(r) },
        .http(.post, "/cluster", name: "cluster", access: .user) { s, r, _ in try await s.clusterRequest(r) },
        .http(.get, "/categories", name: "categories") { s, _, _ in try await s.categories() },
        .scheduled("cron(0 3 * * ? *)", name: "nightly-cluster") { s, _, _ in
            let outcome = try await s.cluster(k: nil)
            return Self.json(outcome)
        },
    ]

    static func json(_ object: Any, status: Int = 200) -> FunctionResponse {
        FunctionResponse(
            status: status, headers: ["content-type": "application/json"],
            body: Array(
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                    ?? Data()))
    }

    /// Where a file's object lives: under its category's name, or `unclustered` before any clustering.
    static func key(_ id: String, category: String?) -> String { "documents/\(category ?? "unclustered")/\(id).txt" }

    // MARK: - Upload

    func upload(_ r: FunctionRequest) async throws -> FunctionResponse {
        let name = (r.query["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 255, !name.contains("/") else {
            throw FunctionError.badRequest(
                "?name= is required: the file's name, 1–255 characters without '/'", code: "MissingParameter")
        }
        if let problem = Self.problem(r.body, contentType: r.headers["content-type"], maxBytes: maxBytes) {
            Counter(label: "Plumb/Documents/Rejected", dimensions: [("Reason", problem.code)]).increment()
            throw problem
        }
        let text = String(decoding: r.body, as: UTF8.self)
        let id = UUID().uuidString.lowercased()
        let started = ContinuousClock.now
        let entities = extractor.entities(in: text)
        let elapsed = (ContinuousClock.now - started).components
        Metrics.Timer(label: "Plumb/Documents/ExtractionLatency").recordNanoseconds(
            elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        // Into the current clustering's nearest category, until the next clustering.
        let category = try await nearestCategory(text)
        var categoryName: String?
        if let category { categoryName = try await categoryNames()[category] }
        let object = Self.key(id, category: categoryName)
        try blobs.put(object, r.body, compressionLevel: 6)
        let entityJSON = String(decoding: try JSONEncoder().encode(entities), as: UTF8.self)
        let digest = r.body.sha256Hex
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT INTO files (id, name, bytes, sha256, created_at, category, entities, object) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [id, name, r.body.count, digest, Date().timeIntervalSince1970, category, entityJSON, object])
        }
        Counter(label: "Plumb/Documents/Uploads").increment()
        Gauge(label: "Plumb/Documents/Entities").record(entities.count)
        logger.info("stored \(name) (\(r.body.count) bytes): \(entities.count) entities", metadata: ["file": "\(id)"])
        return Self.json(
            [
                "id": id, "name": name, "bytes": r.body.count, "category": category.map { $0 as Any } ?? NSNull(),
                "entities": entities.prefix(20).map { ["text": $0.text, "mentions": $0.mentions] },
            ], status: 201)
    }

    // MARK: - Files

    func row(_ r: FunctionRequest) async throws -> Row {
        let id = r.pathParameters["id"] ?? ""
        guard
            let row = try await database.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM files WHERE id = ?", arguments: [id])
            })
        else {
            throw FunctionError.notFound("no file '\(id)'", code: "NoSuchFile")
        }
        return row
    }

    func list(_ r: FunctionRequest) async throws -> FunctionResponse {
        var category: Int?
        if let raw = r.query["category"] {
            guard let id = Int(raw) else {
                throw FunctionError.badRequest("?category= is a category id (GET /categories)")
            }
            category = id
        }
        let rows = try await database.read { db in
            if let c = category {
                return try Row.fetchAll(
                    db,
                    sql:
                        "SELECT id, name, bytes, created_at, category, object FROM files WHERE category = ? ORDER BY created_at",
                    arguments: [c])
            }
            return try Row.fetchAll(
                db, sql: "SELECT id, name, bytes, created_at, category, object FROM files ORDER BY created_at")
        }
        let names = try await categoryNames()
        return Self.json([
            "files": rows.map { row -> [String: Any] in
                let c: Int? = row["category"]
                return [
                    "id": row["id"] as String, "name": row["name"] as String, "bytes": row["bytes"] as Int,
                    "category": c.map { $0 as Any } ?? NSNull(), "category_name": c.flatMap { names[$0] } ?? NSNull(),
                    "object": row["object"] as String,
                ]
            }
        ])
    }

    func download(_ r: FunctionRequest) async throws -> FunctionResponse {
        let row = try await row(r)
        guard let bytes = try blobs.get(row["object"]) else {
            throw FunctionError(
                status: 500, code: "MissingObject", message: "the file's object is missing from the blob store")
        }
        let name: String = row["name"]
        return FunctionResponse(
            status: 200,
            headers: [
                "content-type": "text/plain; charset=utf-8",
                "content-disposition": "attachment; filename=\"\(name.replacingOccurrences(of: "\"", with: ""))\"",
            ], body: bytes)
    }

    func delete(_ r: FunctionRequest) async throws -> FunctionResponse {
        let row = try await row(r)
        let id: String = row["id"]
        try await database.write { db in try db.execute(sql: "DELETE FROM files WHERE id = ?", arguments: [id]) }
        try blobs.delete(row["object"])
        return FunctionResponse(status: 204)
    }

    func storedEntities(_ row: Row) throws -> [EntityExtractor.Entity] {
        try JSONDecoder().decode([EntityExtractor.Entity].self, from: Data((row["entities"] as String).utf8))
    }

    func entities(_ r: FunctionRequest) async throws -> FunctionResponse {
        let row = try await row(r)
        return Self.json([
            "id": row["id"] as String,
            "entities": try storedEntities(row).map { ["text": $0.text, "mentions": $0.mentions] },
        ])
    }

    func wordCloud(_ r: FunctionRequest) async throws -> FunctionResponse {
        let row = try await row(r)
        let width = Double(r.query["width"] ?? "") ?? 800
        let height = Double(r.query["height"] ?? "") ?? 500
        guard (200...4_000).contains(width), (150...4_000).contains(height) else {
            throw FunctionError.badRequest("width must be 200–4000 and height 150–4000")
        }
        let cloud = WordCloud(
            try storedEntities(row).prefix(100).map { ($0.text, $0.mentions) }, width: width, height: height)
        return FunctionResponse(
            status: 200, headers: ["content-type": "image/svg+xml; charset=utf-8"],
            body: Array(cloud.svg(title: "Named entities of \(row["name"] as String)").utf8))
    }

    // MARK: - Clustering

    /// What a clustering keeps to place later uploads: the vocabulary, idf and centroids.
    struct Model: Codable {
        var vocabulary: [String]
        var idf: [Double]
        var centroids: [[Double]]
    }

    /// The last clustering's vectoriser and centroids, decoded once per clustering (the model is the whole vocabulary
    /// and k dense centroids: hundreds of kilobytes of JSON, too much to parse on every upload).
    final class PlacedModel: Sendable {
        let computedAt: Double
        let tfidf: TFIDF
        let centroids: [[Double]]
        init(computedAt: Double, tfidf: TFIDF, centroids: [[Double]]) {
            self.computedAt = computedAt
            self.tfidf = tfidf
            self.centroids = centroids
        }
    }
    /// One per data directory, shared by the plugin's instances.
    final class ModelCache: Sendable {
        let current = Mutex<PlacedModel?>(nil)
    }
    static let models = SharedInstances<ModelCache>()

    func nearestCategory(_ text: String) async throws -> Int? {
        let cache = Self.models.get(dataDirectory) { ModelCache() }
        guard
            let computedAt = try await database.read({ db in
                try Double.fetchOne(db, sql: "SELECT computed_at FROM clustering WHERE id = 1")
            })
        else {
            return nil
        }
        var model = cache.current.withLock { $0 }.flatMap { $0.computedAt == computedAt ? $0 : nil }
        if model == nil {
            guard
                let json = try await database.read({ db in
                    try String.fetchOne(db, sql: "SELECT model FROM clustering WHERE id = 1")
                })
            else { return nil }
            let decoded = try JSONDecoder().decode(Model.self, from: Data(json.utf8))
            let placed = PlacedModel(
                computedAt: computedAt,
                tfidf: TFIDF(vocabulary: decoded.vocabulary, idf: decoded.idf, stopWords: Self.stopWords),
                centroids: decoded.centroids)
            cache.current.withLock { $0 = placed }
            model = placed
        }
        let vector = model!.tfidf.vector(text)
        return vector.isEmpty ? nil : KMeans.nearest(vector, centroids: model!.centroids)
    }

    func categoryNames() async throws -> [Int: String] {
        try await database.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, name FROM categories").map {
                    ($0["id"] as Int, $0["name"] as String)
                })
        }
    }

    func clusterRequest(_ r: FunctionRequest) async throws -> FunctionResponse {
        var k: Int?
        if !r.body.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else {
                throw FunctionError.badRequest("the body must be a JSON object: {\"k\": N} or {}")
            }
            if let value = object["k"] {
                guard let n = value as? Int, n >= 2 else {
                    throw FunctionError.badRequest("k must be an integer of at least 2")
                }
                k = n
            }
        }
        return Self.json(try await cluster(k: k))
    }

    /// Re-clusters every file: TF-IDF, k-means (k given, or the best silhouette over `kRange`), categories named by
    /// their centroids' top terms, each file assigned.
    func cluster(k requested: Int?) async throws -> [String: Any] {
        let stored = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, object FROM files ORDER BY created_at").map {
                ($0["id"] as String, $0["object"] as String)
            }
        }
        let files = stored.map(\.0)
        let texts = try stored.map { String(decoding: try blobs.get($0.1) ?? [], as: UTF8.self) }
        guard files.count >= 3 else {
            throw FunctionError(
                status: 409, code: "TooFewFiles",
                message: "clustering needs at least 3 files (there are \(files.count))")
        }
        if let requested, requested > files.count {
            throw FunctionError.badRequest("k = \(requested) is more than the \(files.count) files")
        }
        let started = ContinuousClock.now
        let tfidf = TFIDF(documents: texts, stopWords: Self.stopWords)
        let rows = tfidf.rows
        let candidates = requested.map { [$0] } ?? Array(kRange.lowerBound...min(kRange.upperBound, files.count - 1))
        var tried: [[String: Any]] = []
        var best: (k: Int, result: KMeans.Result, silhouette: Double)?
        for k in candidates {
            let result = KMeans.fit(rows, dimensions: tfidf.vocabulary.count, k: k, initialisations: 10, seed: seed)
            let score = KMeans.silhouette(rows, labels: result.labels, k: k)
            tried.append(["k": k, "silhouette": score, "inertia": result.inertia])
            if best == nil || score > best!.silhouette { best = (k, result, score) }
        }
        let chosen = best!
        let names = chosen.result.centroids.map { centroid in
            Array(
                centroid.enumerated().sorted { $0.element > $1.element }.prefix(3).map { tfidf.vocabulary[$0.offset] })
        }
        let model = Model(vocabulary: tfidf.vocabulary, idf: tfidf.idf, centroids: chosen.result.centroids)
        let modelJSON = String(decoding: try JSONEncoder().encode(model), as: UTF8.self)
        let now = Date().timeIntervalSince1970
        try await database.write { db in
            try db.execute(sql: "DELETE FROM categories")
            for (c, terms) in names.enumerated() {
                try db.execute(
                    sql: "INSERT INTO categories (id, name, terms) VALUES (?, ?, ?)",
                    arguments: [
                        c, terms.joined(separator: "-"),
                        String(decoding: try JSONSerialization.data(withJSONObject: terms), as: UTF8.self),
                    ])
            }
            for (file, label) in zip(files, chosen.result.labels) {
                try db.execute(sql: "UPDATE files SET category = ? WHERE id = ?", arguments: [label, file])
            }
            try db.execute(
                sql:
                    "INSERT OR REPLACE INTO clustering (id, computed_at, k, inertia, silhouette, model) VALUES (1, ?, ?, ?, ?, ?)",
                arguments: [now, chosen.k, chosen.result.inertia, chosen.silhouette, modelJSON])
        }
        // Each object moves under its category's name: copy, point the row at the copy, then drop the old one (a crash
        // in between leaves a stray copy, never a file without its object).
        var moved = 0
        for ((file, old), label) in zip(stored, chosen.result.labels) {
            let object = Self.key(file, category: names[label].joined(separator: "-"))
            guard object != old, let bytes = try blobs.get(old) else { continue }
            try blobs.put(object, bytes, compressionLevel: 6)
            try await database.write { db in
                try db.execute(sql: "UPDATE files SET object = ? WHERE id = ?", arguments: [object, file])
            }
            try blobs.delete(old)
            moved += 1
        }
        let seconds =
            Double((ContinuousClock.now - started).components.seconds) + Double(
                (ContinuousClock.now - started).components.attoseconds) / 1e18
        Gauge(label: "Plumb/Documents/Categories").record(chosen.k)
        Gauge(label: "Plumb/Documents/Silhouette").record(chosen.silhouette)
        logger.info(
            "clustered \(files.count) files into \(chosen.k) categories (silhouette \(String(format: "%.3f", chosen.silhouette))) in \(String(format: "%.2f", seconds)) s"
        )
        return [
            "files": files.count, "moved": moved, "k": chosen.k, "silhouette": chosen.silhouette,
            "inertia": chosen.result.inertia, "tried": tried,
            "categories": names.enumerated().map { c, terms in
                [
                    "id": c, "name": terms.joined(separator: "-"), "terms": terms,
                    "files": chosen.result.labels.filter { $0 == c }.count,
                ]
            },
        ]
    }

    func categories() async throws -> FunctionResponse {
        let (rows, clustering, counts) = try await database.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT id, name, terms FROM categories ORDER BY id"),
                try Row.fetchOne(db, sql: "SELECT computed_at, k, silhouette, inertia FROM clustering WHERE id = 1"),
                Dictionary(
                    uniqueKeysWithValues: try Row.fetchAll(
                        db,
                        sql: "SELECT category, COUNT(*) AS n FROM files WHERE category IS NOT NULL GROUP BY category"
                    ).map { ($0["category"] as Int, $0["n"] as Int) })
            )
        }
        var out: [String: Any] = [
            "categories": rows.map { row -> [String: Any] in
                let id: Int = row["id"]
                return [
                    "id": id, "name": row["name"] as String,
                    "terms": (try? JSONSerialization.jsonObject(with: Data((row["terms"] as String).utf8))) ?? [],
                    "files": counts[id] ?? 0,
                ]
            }
        ]
        if let clustering {
            out["computed_at"] = ISO8601DateFormatter().string(
                from: Date(timeIntervalSince1970: clustering["computed_at"]))
            out["k"] = clustering["k"] as Int
            out["silhouette"] = clustering["silhouette"] as Double
        }
        return Self.json(out)
    }

    /// Common English words left out of the vectors and category names.
    public static let stopWords: Set<String> = EntityExtractor.stopWords.union([
        "have", "has", "had", "having", "get", "got", "like", "than", "too", "out", "up", "down", "off", "own", "same",
        "other", "few",
        "into", "through", "during", "until", "against", "between", "because", "don", "doesn", "didn", "isn", "aren",
        "wasn", "weren",
        "won", "wouldn", "ll", "ve", "re", "am", "said", "say", "says", "way", "make", "made", "even", "never",
        "always", "ever",
        "still", "back", "go", "going", "know", "think", "see", "come", "take", "want", "use", "new", "first", "last",
        "long", "great",
        "little", "good", "man", "day", "time", "year", "years", "people", "thing", "things", "something", "nothing",
        "anything",
        "everything", "someone", "anyone", "everyone", "itself", "myself", "yourself", "himself", "herself",
        "themselves", "ourselves",
    ])
}
