import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

/// The muon-detector pipeline (first part): the registry, NDJSON and batch ingest into a durable per-detector log
/// with sequence numbers, and CSV export of the model's features.
///
/// Routes under `/apps/sensors`: `POST/GET /projects`, `POST/GET /sites`, `POST/GET /detectors`,
/// `GET /detectors/{id}`, `POST /detectors/{id}/deployments` (status history), `POST /ingest` (NDJSON),
/// `POST /batches` (JSON array or NDJSON), `GET /export.csv?detector=&start=&end=&features=`.
public struct SensorsPlugin: Plugin {
    public static let name = "sensors"
    static let ingested = Counter(label: "Plumb/Sensors/ReadingsIngested")
    static let duplicates = Counter(label: "Plumb/Sensors/ReadingsDuplicate")
    static let rejectedCounter = Counter(label: "Plumb/Sensors/ReadingsRejected")
    /// From a chunk's or batch's arrival to its acknowledgement, after the commit: what a device waits.
    static let ingestLatency = Metrics.Timer(label: "Plumb/Sensors/IngestLatency")
    static let segmentsWritten = Counter(label: "Plumb/Sensors/SegmentsWritten")

    /// The segment count starts at 0 with the server: deliveries run once a minute, and until the first one the
    /// dashboard shows 0 written, not "no data".
    public static func prepare(context: PluginContext) async throws {
        segmentsWritten.increment(by: 0)
    }

    /// Findings go to `findings_topic` (default `sensors-findings`), object events to `object_events_topic` if set.
    public static func topics(context: PluginContext) -> [String] {
        [context.settings["findings_topic"] ?? "sensors-findings"]
            + (context.settings["object_events_topic"].map { [$0] } ?? [])
    }
    public static let statuses = ["planned", "deployed", "retrieved", "maintenance"]
    static let maxLines = 100_000

    let database: DatabasePool
    let writer: ReadingWriter
    let blobs: any BlobStoring
    let logger: Logger
    /// Size and time hints of the deliverer: a detector's log becomes a segment once it holds this many readings, or
    /// once its oldest undelivered reading is this many seconds old.
    let segmentReadings: Int
    let segmentAge: Double
    /// Lifecycle: segments older than this many days move to the archive tier; a restore keeps a hot copy this long.
    let archiveAfterDays: Double
    let restoreDays: Double
    let host: any HostServices
    /// The server's public address: share URLs start with it.
    let publicURL: String
    /// The topic findings are published to (`plugins.sensors.findings_topic`, default `sensors-findings`).
    let findingsTopic: String
    /// A classifier model that scores readings instead of the built-in detector, and the label that means a finding.
    let findingsModel: String?
    let findingsLabel: String
    /// Where object events go (S3 event notifications → SNS), when set (`plugins.sensors.object_events_topic`).
    let objectEventsTopic: String?

    public init(context: PluginContext) async throws {
        database = context.database
        writer = ReadingWriter.shared(for: context.dataDirectory, database: context.database)
        blobs = context.blobs
        logger = context.logger
        segmentReadings = try context.setting("segment_readings", default: 3_600, range: 1...1_000_000)
        segmentAge = try context.setting("segment_age", default: 300, range: 1...86_400)
        archiveAfterDays = try context.setting("archive_after_days", default: 30, range: 0...3_650)
        restoreDays = try context.setting("restore_days", default: 7, range: 0.001...365)
        host = context.host
        publicURL = context.publicURL
        findingsTopic = context.settings["findings_topic"] ?? "sensors-findings"
        objectEventsTopic = context.settings["object_events_topic"]
        findingsModel = context.settings["findings_model"]
        findingsLabel = context.settings["findings_label"] ?? "anomaly"
        // The scorer's windows are read from the database once per process, at start (before devices reconnect)
        // rather than in the middle of the first scoring run.
        let windows = writer.windows
        if !windows.seeded { try await database.read { db in if !windows.seeded { try windows.seed(db) } } }
    }

    /// Publishes an S3-style object event (`ObjectCreated:Put`, `LifecycleTransition`, `ObjectRestore:Completed`)
    /// when an events topic is configured; a failure to publish is logged, never fatal to the operation.
    func objectEvent(_ name: String, key: String, size: Int?) async {
        guard let topic = objectEventsTopic else { return }
        var record: [String: Any] = [
            "eventName": name, "key": key, "eventTime": Self.iso(Int64(Date().timeIntervalSince1970 * 1_000)),
        ]
        if let size { record["size"] = size }
        let message = String(
            decoding: (try? JSONSerialization.data(withJSONObject: ["Records": [record]], options: [.sortedKeys]))
                ?? Data(), as: UTF8.self)
        do {
            _ = try await host.publish(
                topic: topic, subject: "\(name): \(key)", message: message, attributes: ["event": name])
        } catch {
            logger.warning("object event \(name) for \(key) not published to \(topic): \(error)")
        }
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("sensors-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at REAL NOT NULL);
                    CREATE TABLE sites (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
                        name TEXT NOT NULL, latitude REAL CHECK (latitude BETWEEN -90 AND 90), longitude REAL CHECK (longitude BETWEEN -180 AND 180),
                        created_at REAL NOT NULL);
                    CREATE TABLE detectors (id TEXT PRIMARY KEY, model TEXT NOT NULL, site_id TEXT REFERENCES sites(id) ON DELETE RESTRICT,
                        status TEXT NOT NULL CHECK (status IN ('planned', 'deployed', 'retrieved', 'maintenance')), created_at REAL NOT NULL);
                    CREATE TABLE deployments (id INTEGER PRIMARY KEY AUTOINCREMENT, detector_id TEXT NOT NULL REFERENCES detectors(id),
                        site_id TEXT REFERENCES sites(id), status TEXT NOT NULL CHECK (status IN ('planned', 'deployed', 'retrieved', 'maintenance')),
                        note TEXT, at REAL NOT NULL);
                    CREATE TABLE readings (detector TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, body TEXT NOT NULL,
                        PRIMARY KEY (detector, seq), UNIQUE (detector, ts)) WITHOUT ROWID;
                    """)
        },
        // Delivered readings keep their (detector, seq, ts) row for idempotency; the body moves to a segment object.
        PluginMigration("sensors-v2-segments") { db in
            try db.execute(
                sql: """
                    ALTER TABLE readings ADD COLUMN segment TEXT;
                    CREATE INDEX readings_undelivered ON readings(detector, seq) WHERE segment IS NULL;
                    CREATE TABLE segments (key TEXT PRIMARY KEY, detector TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
                        first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, readings INTEGER NOT NULL, bytes INTEGER NOT NULL,
                        stored_bytes INTEGER NOT NULL, created_at REAL NOT NULL);
                    CREATE INDEX segments_detector ON segments(detector, first_seq);
                    """)
        },
        // The scorer's input stays in the log after delivery; findings and whether they were published.
        PluginMigration("sensors-v3-findings") { db in
            try db.execute(
                sql: """
                    ALTER TABLE readings ADD COLUMN rate REAL;
                    CREATE TABLE findings (id INTEGER PRIMARY KEY AUTOINCREMENT, detector TEXT NOT NULL, kind TEXT NOT NULL,
                        window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, rate REAL NOT NULL, baseline REAL NOT NULL,
                        baseline_std REAL NOT NULL, z REAL NOT NULL, readings INTEGER NOT NULL, message_id TEXT, publish_error TEXT,
                        created_at REAL NOT NULL);
                    CREATE INDEX findings_detector ON findings(detector, created_at);
                    """)
        },
        // The undelivered log moves to an arrival-ordered table (appends touch the same few pages whatever the
        // detector); `readings` keeps only delivered readings, written by delivery in per-detector runs.
        PluginMigration("sensors-v4-arrival-log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE log (id INTEGER PRIMARY KEY, detector TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, rate REAL,
                        body TEXT NOT NULL);
                    CREATE UNIQUE INDEX log_key ON log(ts, detector);
                    INSERT INTO log (detector, seq, ts, rate, body)
                        SELECT detector, seq, ts, rate, body FROM readings WHERE segment IS NULL ORDER BY ts, detector;
                    DELETE FROM readings WHERE segment IS NULL;
                    DROP INDEX readings_undelivered;
                    """)
        },
    ]

    public static let functions: [Function<SensorsPlugin>] = [
        .http(.post, "/projects", name: "create-project", access: .admin) { s, r, _ in try await s.createProject(r) },
        .http(.get, "/projects", name: "projects") { s, _, _ in try await s.list("projects") },
        .http(.post, "/sites", name: "create-site", access: .admin) { s, r, _ in try await s.createSite(r) },
        .http(.get, "/sites", name: "sites") { s, _, _ in try await s.list("sites") },
        .http(.post, "/detectors", name: "create-detector", access: .admin) { s, r, _ in try await s.createDetector(r)
        },
        .http(.get, "/detectors", name: "detectors") { s, _, _ in try await s.list("detectors") },
        .http(.get, "/detectors/{id}", name: "detector") { s, r, _ in try await s.detector(r) },
        .http(.post, "/detectors/{id}/deployments", name: "deploy", access: .admin) { s, r, _ in try await s.deploy(r)
        },
        .http(.patch, "/projects/{id}", name: "update-project", access: .admin) { s, r, _ in
            try await s.updateProject(r)
        },
        .http(.delete, "/projects/{id}", name: "delete-project", access: .admin) { s, r, _ in
            try await s.deleteProject(r)
        },
        .http(.patch, "/sites/{id}", name: "update-site", access: .admin) { s, r, _ in try await s.updateSite(r) },
        .http(.delete, "/sites/{id}", name: "delete-site", access: .admin) { s, r, _ in try await s.deleteSite(r) },
        .http(.patch, "/detectors/{id}", name: "update-detector", access: .admin) { s, r, _ in
            try await s.updateDetector(r)
        },
        .http(.delete, "/detectors/{id}", name: "delete-detector", access: .admin) { s, r, _ in
            try await s.deleteDetector(r)
        },
        .http(.patch, "/detectors/{id}/deployments/{number}", name: "update-deployment", access: .admin) { s, r, _ in
            try await s.updateDeployment(r)
        },
        .http(.delete, "/detectors/{id}/deployments/{number}", name: "delete-deployment", access: .admin) { s, r, _ in
            try await s.deleteDeployment(r)
        },
        .streamingHTTP(.post, "/ingest", name: "ingest") { s, r, _ in try await s.ingestStream(r) },
        .http(.post, "/batches", name: "batch") { s, r, _ in try await s.ingest(r, format: .auto) },
        .http(.get, "/export.csv", name: "export") { s, r, _ in try await s.export(r) },
        .http(.post, "/deliver", name: "deliver-now", access: .admin) { s, _, _ in try await s.deliver(force: true) },
        .http(.get, "/segments", name: "segments") { s, r, _ in try await s.segments(r) },
        .scheduled("rate(1 minute)", name: "deliver") { s, _, _ in try await s.deliver(force: false) },
        .http(.post, "/score", name: "score-now", access: .admin) { s, _, _ in try await s.score() },
        .http(.get, "/findings", name: "findings") { s, r, _ in try await s.findings(r) },
        .scheduled("rate(1 minute)", name: "score") { s, _, _ in try await s.score() },
        .http(.post, "/shares", name: "share", access: .admin) { s, r, _ in try await s.share(r) },
        .http(.get, "/shared", name: "shared") { s, r, _ in try await s.shared(r) },
        .http(.get, "/objects", name: "objects") { s, r, _ in try await s.objects(r) },
        .http(.post, "/objects/restore", name: "restore", access: .admin) { s, r, _ in try await s.restore(r) },
        .http(.post, "/lifecycle", name: "lifecycle-now", access: .admin) { s, _, _ in try await s.lifecycle() },
        .scheduled("rate(1 hour)", name: "lifecycle") { s, _, _ in try await s.lifecycle() },
    ]

    static func json(_ object: Any, status: Int = 200) -> FunctionResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return FunctionResponse(status: status, headers: ["content-type": "application/json"], body: Array(data))
    }

    static func object(_ request: FunctionRequest) throws -> [String: Any] {
        guard let o = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
            throw FunctionError.badRequest("the body must be a JSON object")
        }
        return o
    }

    static func id(_ o: [String: Any], _ key: String = "id") throws -> String {
        guard let text = o[key] as? String, Reading.validDetector(text) else {
            throw FunctionError.badRequest("'\(key)' is required: 1–64 letters, digits, '_', '.' or '-'")
        }
        return text
    }

    /// Runs a write; a foreign-key or uniqueness failure becomes a 409/400 that says which.
    func write(_ what: String, _ body: @escaping @Sendable (Database) throws -> Void) async throws {
        do {
            try await database.write(body)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_UNIQUE:
                throw FunctionError(status: 409, code: "AlreadyExists", message: "\(what) already exists")
            case .SQLITE_CONSTRAINT_FOREIGNKEY:
                throw FunctionError.badRequest("\(what) refers to something that does not exist")
            default:
                throw FunctionError.badRequest("\(what) is not valid: \(error.message ?? "constraint failed")")
            }
        }
    }

    func createProject(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        let id = try Self.id(o)
        let name = (o["name"] as? String) ?? id
        try await write("project '\(id)'") { db in
            try db.execute(
                sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [id, name, Date().timeIntervalSince1970])
        }
        return Self.json(["id": id, "name": name], status: 201)
    }

    func createSite(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        let id = try Self.id(o)
        let project = try Self.id(o, "project")
        let lat = o["latitude"] as? Double
        let lon = o["longitude"] as? Double
        if let lat, !(-90...90).contains(lat) { throw FunctionError.badRequest("'latitude' must be from -90 to 90") }
        if let lon, !(-180...180).contains(lon) {
            throw FunctionError.badRequest("'longitude' must be from -180 to 180")
        }
        let name = (o["name"] as? String) ?? id
        try await write("site '\(id)' (project '\(project)')") { db in
            try db.execute(
                sql:
                    "INSERT INTO sites (id, project_id, name, latitude, longitude, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, project, name, lat, lon, Date().timeIntervalSince1970])
        }
        return Self.json(["id": id, "project": project, "name": name], status: 201)
    }

    func createDetector(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        let id = try Self.id(o)
        let model = (o["model"] as? String) ?? "muon-v1"
        let site = o["site"] as? String
        let now = Date().timeIntervalSince1970
        try await write("detector '\(id)'\(site.map { " (site '\($0)')" } ?? "")") { db in
            try db.execute(
                sql: "INSERT INTO detectors (id, model, site_id, status, created_at) VALUES (?, ?, ?, 'planned', ?)",
                arguments: [id, model, site, now])
            try db.execute(
                sql:
                    "INSERT INTO deployments (detector_id, site_id, status, note, at) VALUES (?, ?, 'planned', 'registered', ?)",
                arguments: [id, site, now])
        }
        return Self.json(
            ["id": id, "model": model, "site": site.map { $0 as Any } ?? NSNull(), "status": "planned"], status: 201)
    }

    func list(_ table: String) async throws -> FunctionResponse {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY id LIMIT 10000")
        }
        return Self.json(["items": rows.map(Self.dictionary)])
    }

    static func dictionary(_ row: Row) -> [String: Any] {
        var d: [String: Any] = [:]
        for (name, value) in row {
            switch value.storage {
            case .null, .blob: d[name] = NSNull()
            case .int64(let i): d[name] = i
            case .double(let x): d[name] = x
            case .string(let text): d[name] = text
            }
        }
        return d
    }

    func detector(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = r.pathParameters["id"] ?? ""
        let (row, history, stats) = try await database.read { db in
            (
                try Row.fetchOne(db, sql: "SELECT * FROM detectors WHERE id = ?", arguments: [id]),
                try Row.fetchAll(
                    db, sql: "SELECT * FROM deployments WHERE detector_id = ? ORDER BY id", arguments: [id]),
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT SUM(n) AS n, MAX(seq) AS seq, MAX(ts) AS ts FROM (
                            SELECT COUNT(*) AS n, MAX(seq) AS seq, MAX(ts) AS ts FROM readings WHERE detector = ?1
                            UNION ALL SELECT COUNT(*), MAX(seq), MAX(ts) FROM log WHERE detector = ?1)
                        """, arguments: [id])
            )
        }
        guard let row else { throw FunctionError(status: 404, code: "NotFound", message: "no detector '\(id)'") }
        let lastTs: Int64? = stats?["ts"]
        return Self.json([
            "id": row["id"] as String, "model": row["model"] as String, "site": (row["site_id"] as String?) ?? NSNull(),
            "status": row["status"] as String, "readings": (stats?["n"] as Int?) ?? 0,
            "lastSequence": (stats?["seq"] as Int64?) ?? NSNull(),
            "lastReadingAt": lastTs.map { Self.iso($0) } ?? NSNull(),
            "history": history.map { h -> [String: Any] in
                [
                    "status": h["status"] as String, "site": (h["site_id"] as String?) ?? NSNull(),
                    "note": (h["note"] as String?) ?? NSNull(), "at": Self.iso(Int64((h["at"] as Double) * 1_000)),
                ]
            },
        ])
    }

    func deploy(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = r.pathParameters["id"] ?? ""
        let o = try Self.object(r)
        guard let status = o["status"] as? String, Self.statuses.contains(status) else {
            throw FunctionError.badRequest("'status' must be one of \(Self.statuses.joined(separator: ", "))")
        }
        let site = o["site"] as? String
        let note = o["note"] as? String
        if status == "deployed" && site == nil { throw FunctionError.badRequest("a deployment needs a 'site'") }
        let now = Date().timeIntervalSince1970
        let exists = try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM detectors WHERE id = ?", arguments: [id]) ?? false
        }
        guard exists else { throw FunctionError(status: 404, code: "NotFound", message: "no detector '\(id)'") }
        try await write("deployment of '\(id)'\(site.map { " at site '\($0)'" } ?? "")") { db in
            try db.execute(
                sql: "INSERT INTO deployments (detector_id, site_id, status, note, at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, site, status, note, now])
            try db.execute(
                sql: "UPDATE detectors SET status = ?, site_id = COALESCE(?, site_id) WHERE id = ?",
                arguments: [status, site, id])
        }
        return try await detector(r)
    }
}
