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
        segmentReadings = Int(context.settings["segment_readings"] ?? "") ?? 3_600
        segmentAge = Double(context.settings["segment_age"] ?? "") ?? 300
        archiveAfterDays = Double(context.settings["archive_after_days"] ?? "") ?? 30
        restoreDays = Double(context.settings["restore_days"] ?? "") ?? 7
        host = context.host
        findingsTopic = context.settings["findings_topic"] ?? "sensors-findings"
        objectEventsTopic = context.settings["object_events_topic"]
        findingsModel = context.settings["findings_model"]
        findingsLabel = context.settings["findings_label"] ?? "anomaly"
    }

    /// Publishes an S3-style object event (`ObjectCreated:Put`, `LifecycleTransition`, `ObjectRestore:Completed`)
    /// when an events topic is configured; a failure to publish is logged, never fatal to the operation.
    func objectEvent(_ name: String, key: String, size: Int?) {
        guard let topic = objectEventsTopic else { return }
        var record: [String: Any] = ["eventName": name, "key": key, "eventTime": Self.iso(Int64(Date().timeIntervalSince1970 * 1_000))]
        if let size { record["size"] = size }
        let message = String(decoding: (try? JSONSerialization.data(withJSONObject: ["Records": [record]], options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        do {
            _ = try host.publish(topic: topic, subject: "\(name): \(key)", message: message, attributes: ["event": name])
        } catch {
            logger.warning("object event \(name) for \(key) not published to \(topic): \(error)")
        }
    }

    public static let migrations: [PluginMigration] = [
        PluginMigration("sensors-v1") { db in
            try db.execute(sql: """
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
            try db.execute(sql: """
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
            try db.execute(sql: """
                ALTER TABLE readings ADD COLUMN rate REAL;
                CREATE TABLE findings (id INTEGER PRIMARY KEY AUTOINCREMENT, detector TEXT NOT NULL, kind TEXT NOT NULL,
                    window_start INTEGER NOT NULL, window_end INTEGER NOT NULL, rate REAL NOT NULL, baseline REAL NOT NULL,
                    baseline_std REAL NOT NULL, z REAL NOT NULL, readings INTEGER NOT NULL, message_id TEXT, publish_error TEXT,
                    created_at REAL NOT NULL);
                CREATE INDEX findings_detector ON findings(detector, created_at);
                """)
        },
    ]

    public static let functions: [Function<SensorsPlugin>] = [
        .http(.post, "/projects", name: "create-project") { s, r, _ in try await s.createProject(r) },
        .http(.get, "/projects", name: "projects") { s, _, _ in try await s.list("projects") },
        .http(.post, "/sites", name: "create-site") { s, r, _ in try await s.createSite(r) },
        .http(.get, "/sites", name: "sites") { s, _, _ in try await s.list("sites") },
        .http(.post, "/detectors", name: "create-detector") { s, r, _ in try await s.createDetector(r) },
        .http(.get, "/detectors", name: "detectors") { s, _, _ in try await s.list("detectors") },
        .http(.get, "/detectors/{id}", name: "detector") { s, r, _ in try await s.detector(r) },
        .http(.post, "/detectors/{id}/deployments", name: "deploy") { s, r, _ in try await s.deploy(r) },
        .streamingHTTP(.post, "/ingest", name: "ingest") { s, r, _ in try await s.ingestStream(r) },
        .http(.post, "/batches", name: "batch") { s, r, _ in try await s.ingest(r, format: .auto) },
        .http(.get, "/export.csv", name: "export") { s, r, _ in try await s.export(r) },
        .http(.post, "/deliver", name: "deliver-now", admin: true) { s, _, _ in try await s.deliver(force: true) },
        .http(.get, "/segments", name: "segments") { s, r, _ in try await s.segments(r) },
        .scheduled("rate(1 minute)", name: "deliver") { s, _, _ in try await s.deliver(force: false) },
        .http(.post, "/score", name: "score-now", admin: true) { s, _, _ in try await s.score() },
        .http(.get, "/findings", name: "findings") { s, r, _ in try await s.findings(r) },
        .scheduled("rate(1 minute)", name: "score") { s, _, _ in try await s.score() },
        .http(.post, "/shares", name: "share", admin: true) { s, r, _ in try await s.share(r) },
        .http(.get, "/shared", name: "shared") { s, r, _ in try await s.shared(r) },
        .http(.get, "/objects", name: "objects") { s, r, _ in try await s.objects(r) },
        .http(.post, "/objects/restore", name: "restore", admin: true) { s, r, _ in try await s.restore(r) },
        .http(.post, "/lifecycle", name: "lifecycle-now", admin: true) { s, _, _ in try await s.lifecycle() },
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
            try db.execute(sql: "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)", arguments: [id, name, Date().timeIntervalSince1970])
        }
        return Self.json(["id": id, "name": name], status: 201)
    }

    func createSite(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        let id = try Self.id(o)
        let project = try Self.id(o, "project")
        let lat = o["latitude"] as? Double, lon = o["longitude"] as? Double
        if let lat, !(-90...90).contains(lat) { throw FunctionError.badRequest("'latitude' must be from -90 to 90") }
        if let lon, !(-180...180).contains(lon) { throw FunctionError.badRequest("'longitude' must be from -180 to 180") }
        let name = (o["name"] as? String) ?? id
        try await write("site '\(id)' (project '\(project)')") { db in
            try db.execute(
                sql: "INSERT INTO sites (id, project_id, name, latitude, longitude, created_at) VALUES (?, ?, ?, ?, ?, ?)",
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
            try db.execute(sql: "INSERT INTO detectors (id, model, site_id, status, created_at) VALUES (?, ?, ?, 'planned', ?)", arguments: [id, model, site, now])
            try db.execute(sql: "INSERT INTO deployments (detector_id, site_id, status, note, at) VALUES (?, ?, 'planned', 'registered', ?)", arguments: [id, site, now])
        }
        return Self.json(["id": id, "model": model, "site": site.map { $0 as Any } ?? NSNull(), "status": "planned"], status: 201)
    }

    func list(_ table: String) async throws -> FunctionResponse {
        let rows = try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY id LIMIT 10000") }
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
            (try Row.fetchOne(db, sql: "SELECT * FROM detectors WHERE id = ?", arguments: [id]),
             try Row.fetchAll(db, sql: "SELECT * FROM deployments WHERE detector_id = ? ORDER BY id", arguments: [id]),
             try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MAX(seq) AS seq, MAX(ts) AS ts FROM readings WHERE detector = ?", arguments: [id]))
        }
        guard let row else { throw FunctionError(status: 404, code: "NotFound", message: "no detector '\(id)'") }
        let lastTs: Int64? = stats?["ts"]
        return Self.json([
            "id": row["id"] as String, "model": row["model"] as String, "site": (row["site_id"] as String?) ?? NSNull(),
            "status": row["status"] as String, "readings": (stats?["n"] as Int?) ?? 0, "lastSequence": (stats?["seq"] as Int64?) ?? NSNull(),
            "lastReadingAt": lastTs.map { Self.iso($0) } ?? NSNull(),
            "history": history.map { h -> [String: Any] in
                ["status": h["status"] as String, "site": (h["site_id"] as String?) ?? NSNull(), "note": (h["note"] as String?) ?? NSNull(), "at": Self.iso(Int64((h["at"] as Double) * 1_000))]
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
        let exists = try await database.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM detectors WHERE id = ?", arguments: [id]) ?? false }
        guard exists else { throw FunctionError(status: 404, code: "NotFound", message: "no detector '\(id)'") }
        try await write("deployment of '\(id)'\(site.map { " at site '\($0)'" } ?? "")") { db in
            try db.execute(sql: "INSERT INTO deployments (detector_id, site_id, status, note, at) VALUES (?, ?, ?, ?, ?)", arguments: [id, site, status, note, now])
            try db.execute(sql: "UPDATE detectors SET status = ?, site_id = COALESCE(?, site_id) WHERE id = ?", arguments: [status, site, id])
        }
        return try await detector(r)
    }

    // MARK: - Ingest

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
                guard body.count <= 64 * 1_048_576 else { throw FunctionError(status: 413, code: "TooLarge", message: "at most 64 MiB per request; stream with chunked encoding") }
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
                var ack: [String: Any] = [
                    "chunk": chunk, "lines": [first, nextLine - 1], "accepted": outcome.accepted, "duplicates": outcome.duplicates,
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
        var readings: [(line: Int, reading: Reading)] = []
        var rejected: [[String: Any]] = []
        for (index, item) in items.enumerated() {
            let line = item.drop { $0 == 0x20 || $0 == 0x0D }
            if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
            do {
                readings.append((firstLine + index, try Reading.parse(line)))
            } catch let e as Reading.Invalid {
                rejected.append(["line": firstLine + index, "reason": e.reason])
            }
        }
        let known = try await writer.knownDetectors(Set(readings.map(\.reading.detector)))
        var valid: [Reading] = []
        for item in readings {
            if known.contains(item.reading.detector) { valid.append(item.reading) } else {
                rejected.append(["line": item.line, "reason": "unknown detector '\(item.reading.detector)'"])
            }
        }
        let outcome = try await writer.append(valid)
        Self.ingested.increment(by: outcome.accepted)
        if outcome.duplicates > 0 { Self.duplicates.increment(by: outcome.duplicates) }
        if !rejected.isEmpty { Self.rejectedCounter.increment(by: rejected.count) }
        rejected.sort { ($0["line"] as? Int ?? 0) < ($1["line"] as? Int ?? 0) }
        return (outcome, rejected)
    }


    /// A whole body of readings (NDJSON, or for `/batches` also a JSON array), answered once after the commit.
    func ingest(_ r: FunctionRequest, format: Format) async throws -> FunctionResponse {
        var items: [ArraySlice<UInt8>] = []
        let body = r.body
        let trimmed = body.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
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
            throw FunctionError(status: 413, code: "TooManyReadings", message: "at most \(Self.maxLines) readings per request")
        }
        let (outcome, rejected) = try await store(items, firstLine: 1)
        let status = outcome.accepted + outcome.duplicates == 0 && !rejected.isEmpty ? 400 : 200
        if rejected.isEmpty {
            // The common answer, built by hand: this is the ingest hot path.
            var text = "{\"accepted\":\(outcome.accepted),\"duplicates\":\(outcome.duplicates),\"rejected\":0,\"rejections\":[],\"sequences\":{"
            for (i, (detector, seq)) in outcome.last.sorted(by: { $0.key < $1.key }).enumerated() {
                text += (i > 0 ? "," : "") + "\"\(detector)\":\(seq)"
            }
            text += "}}"
            return FunctionResponse(status: 200, headers: ["content-type": "application/json"], body: Array(text.utf8))
        }
        return Self.json([
            "accepted": outcome.accepted, "duplicates": outcome.duplicates, "rejected": rejected.count, "rejections": rejected,
            "sequences": outcome.last.mapValues { $0 },
        ], status: status)
    }

    // MARK: - Export

    func export(_ r: FunctionRequest) async throws -> FunctionResponse {
        let detector = r.query["detector"]
        if let detector, !Reading.validDetector(detector) { throw FunctionError.badRequest("'detector' is not a valid detector id") }
        let start = try r.query["start"].map { text -> Int64 in
            guard let ms = Reading.parseTime(text) ?? Int64(text) else { throw FunctionError.badRequest("'start' must be RFC 3339 or epoch milliseconds") }
            return ms
        } ?? 0
        let end = try r.query["end"].map { text -> Int64 in
            guard let ms = Reading.parseTime(text) ?? Int64(text) else { throw FunctionError.badRequest("'end' must be RFC 3339 or epoch milliseconds") }
            return ms
        } ?? Int64.max
        let features = r.query["features"].map { $0.split(separator: ",").map(String.init) } ?? Reading.modelFeatures
        if let unknown = features.first(where: { !Reading.numeric.contains($0) && $0 != "firmware" }) {
            throw FunctionError.badRequest("unknown feature '\(unknown)'; features: \((Reading.numeric + ["firmware"]).joined(separator: ", "))")
        }
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT detector, seq, ts, body, segment FROM readings WHERE (? IS NULL OR detector = ?) AND ts >= ? AND ts <= ? ORDER BY ts, detector LIMIT 1000000",
                arguments: [detector, detector, start, end])
        }
        var csv = (["timestamp", "detector", "seq"] + features).map(Self.csvField).joined(separator: ",") + "\r\n"
        var segments: [String: (first: Int64, lines: [ArraySlice<UInt8>])] = [:]
        for row in rows {
            let seq: Int64 = row["seq"]
            var line: ArraySlice<UInt8>
            if let key = row["segment"] as String? {
                if segments[key] == nil { segments[key] = try await loadSegment(key) }
                guard let segment = segments[key], seq - segment.first >= 0, seq - segment.first < Int64(segment.lines.count) else {
                    throw FunctionError(status: 500, code: "SegmentDamaged", message: "segment \(key) does not hold reading \(seq)")
                }
                line = segment.lines[Int(seq - segment.first)]
            } else {
                line = ArraySlice((row["body"] as String).utf8)
            }
            guard let reading = try? Reading.parse(line) else { continue }
            var fields = [Self.iso(row["ts"]), reading.detector, String(seq)]
            for f in features { fields.append(f == "firmware" ? reading.firmware : Self.number(reading.values[f] ?? 0)) }
            csv += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        return FunctionResponse(status: 200, headers: ["content-type": "text/csv; charset=utf-8"], body: Array(csv.utf8))
    }

    /// A 409 naming the restore when `key` is in the archive tier.
    func requireReadable(_ key: String) throws {
        if try blobs.tier(key) == .archived {
            throw FunctionError(
                status: 409, code: "ObjectArchived",
                message: "\(key) is in the archive tier; restore it first: POST /apps/sensors/objects/restore {\"key\": \"\(key)\", \"days\": N}")
        }
    }

    func loadSegment(_ key: String) async throws -> (first: Int64, lines: [ArraySlice<UInt8>]) {
        try requireReadable(key)
        let first = try await database.read { db in try Int64.fetchOne(db, sql: "SELECT first_seq FROM segments WHERE key = ?", arguments: [key]) }
        guard let first, let bytes = try blobs.get(key) else {
            throw FunctionError(status: 500, code: "SegmentMissing", message: "segment object \(key) is missing")
        }
        return (first, bytes.split(separator: 0x0A))
    }

    // MARK: - Delivery (Firehose)

    /// Moves each detector's log into zlib segment objects keyed `segments/yyyy/mm/dd/hh/<detector>-<first>-<last>.ndjson.z`
    /// (UTC hour of the first reading) once the size or time hint is reached (`force` delivers everything), then
    /// trims the bodies from the log. The object is written and synced before the log changes, so a crash in between
    /// leaves an object that the next delivery writes again, never a reading in neither place.
    func deliver(force: Bool) async throws -> FunctionResponse {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let candidates = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT detector, COUNT(*) AS n, MIN(ts) AS oldest FROM readings WHERE segment IS NULL GROUP BY detector")
        }
        var written = 0, delivered = 0, bytes = 0, stored = 0
        for candidate in candidates {
            let detector: String = candidate["detector"]
            let count: Int = candidate["n"]
            let oldest: Int64 = candidate["oldest"]
            guard force || count >= segmentReadings || Double(now - oldest) / 1_000 >= segmentAge else { continue }
            let rows = try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, ts, body FROM readings WHERE detector = ? AND segment IS NULL ORDER BY seq LIMIT ?", arguments: [detector, segmentReadings])
            }
            guard let firstRow = rows.first, let lastRow = rows.last else { continue }
            let first: Int64 = firstRow["seq"], last: Int64 = lastRow["seq"]
            guard last - first + 1 == Int64(rows.count) else {
                throw FunctionError(status: 500, code: "LogGap", message: "the log of \(detector) has a gap between \(first) and \(last)")
            }
            var payload: [UInt8] = []
            for row in rows {
                payload += Array((row["body"] as String).utf8)
                payload.append(0x0A)
            }
            let firstTs: Int64 = firstRow["ts"], lastTs: Int64 = lastRow["ts"]
            let key = "segments/" + Self.hourPrefix(firstTs) + "\(detector)-\(first)-\(last).ndjson.z"
            try blobs.put(key, payload, compressionLevel: 6)
            let storedBytes = blobs.storedSize(key) ?? 0
            let (readingCount, payloadBytes) = (rows.count, payload.count)
            try await database.write { db in
                try db.execute(sql: """
                    INSERT OR REPLACE INTO segments (key, detector, first_seq, last_seq, first_ts, last_ts, readings, bytes, stored_bytes, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [key, detector, first, last, firstTs, lastTs, readingCount, payloadBytes, storedBytes, Date().timeIntervalSince1970])
                try db.execute(
                    sql: "UPDATE readings SET body = '', segment = ? WHERE detector = ? AND seq BETWEEN ? AND ? AND segment IS NULL",
                    arguments: [key, detector, first, last])
            }
            objectEvent("ObjectCreated:Put", key: key, size: storedBytes)
            written += 1
            delivered += rows.count
            bytes += payload.count
            stored += storedBytes
        }
        if written > 0 {
            logger.info("delivered \(delivered) readings in \(written) segments (\(bytes) bytes, \(stored) stored)")
            Counter(label: "Plumb/Sensors/SegmentsWritten").increment(by: written)
        }
        return Self.json(["segments": written, "readings": delivered, "bytes": bytes, "storedBytes": stored])
    }

    // MARK: - Findings

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
        for detector in detectors {
            let rows = try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT ts, rate, body FROM readings WHERE detector = ? AND rate IS NOT NULL ORDER BY ts DESC LIMIT 660", arguments: [detector])
            }
            guard let latest = rows.first?["ts"] as Int64? else { continue }
            Gauge(label: "Plumb/Sensors/LastSeenAge", dimensions: [("Detector", detector)]).record(max(0, now - Double(latest) / 1_000))
            let windowRows = rows.filter { (latest - ($0["ts"] as Int64)) < 60_000 }
            let window = windowRows.map { $0["rate"] as Double }
            let windowStart = windowRows.last?["ts"] as Int64? ?? latest
            guard window.count >= 10 else { continue }
            let recent = try await database.read { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM findings WHERE detector = ? AND created_at > ?", arguments: [detector, now - 600]) ?? false
            }
            guard !recent else { continue }
            let current = window.reduce(0, +) / Double(window.count)
            if let model = findingsModel {
                let bodies = windowRows.compactMap { row -> Reading? in
                    let body: String = row["body"]
                    return body.isEmpty ? nil : try? Reading.parse(Array(body.utf8))
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
            let baseline = rows.filter { (latest - ($0["ts"] as Int64)) >= 60_000 }.prefix(600).map { $0["rate"] as Double }
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

    // MARK: - Sharing (pre-signed URLs)

    static let sharedPath = "/apps/sensors/shared"

    /// What a share URL signs: method, path, the object or finding, and the expiry.
    static func canonical(kind: String, value: String, expires: Int64) -> String {
        "GET\n\(sharedPath)\n\(kind)=\(value)\n\(expires)"
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? text
    }

    /// `POST /shares {"object": KEY | "finding": ID, "expires_in": SECONDS}` → a URL that works without a token until
    /// it expires (1 s to 7 days, S3's limit).
    func share(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        guard let seconds = o["expires_in"] as? Int, (1...604_800).contains(seconds) else {
            throw FunctionError.badRequest("'expires_in' must be whole seconds from 1 to 604800")
        }
        let kind: String, value: String
        if let key = o["object"] as? String {
            guard (try? blobs.tier(key)) ?? nil != nil else { throw FunctionError(status: 404, code: "NotFound", message: "no object '\(key)'") }
            (kind, value) = ("object", key)
        } else if let id = o["finding"] as? Int {
            let exists = try await database.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM findings WHERE id = ?", arguments: [id]) ?? false }
            guard exists else { throw FunctionError(status: 404, code: "NotFound", message: "no finding \(id)") }
            (kind, value) = ("finding", String(id))
        } else {
            throw FunctionError.badRequest("give 'object' (a segment key) or 'finding' (an id)")
        }
        let expires = Int64(Date().timeIntervalSince1970) + Int64(seconds)
        let signature = host.sign(Self.canonical(kind: kind, value: value, expires: expires))
        let path = "\(Self.sharedPath)?\(kind)=\(Self.percentEncoded(value))&expires=\(expires)&signature=\(signature)"
        let base = r.headers["host"].map { "http://\($0)" } ?? ""
        logger.notice("share created", metadata: ["kind": "\(kind)", "value": "\(value)", "expires": "\(expires)", "audit": "true"])
        return Self.json(["url": base + path, "path": path, "expiresAt": Self.iso(expires * 1_000)], status: 201)
    }

    /// `GET /shared?…&expires=&signature=`: the object or finding, without a token, until the expiry; an expired or
    /// altered URL is a 403. Every use, allowed or not, is logged with `audit=true`.
    func shared(_ r: FunctionRequest) async throws -> FunctionResponse {
        let kind = r.query["object"] != nil ? "object" : r.query["finding"] != nil ? "finding" : ""
        let value = r.query[kind] ?? ""
        func refuse(_ why: String) -> FunctionError {
            logger.notice("share refused: \(why)", metadata: ["kind": "\(kind)", "value": "\(value)", "audit": "true"])
            return FunctionError(status: 403, code: "AccessDenied", message: why)
        }
        guard !kind.isEmpty, let expiresText = r.query["expires"], let expires = Int64(expiresText), let signature = r.query["signature"] else {
            throw refuse("a shared URL needs the object or finding, expires and signature")
        }
        guard host.verify(Self.canonical(kind: kind, value: value, expires: expires), signature: signature) else {
            throw refuse("the signature does not match this URL")
        }
        guard Int64(Date().timeIntervalSince1970) <= expires else { throw refuse("the URL expired at \(Self.iso(expires * 1_000))") }
        logger.notice("share used", metadata: ["kind": "\(kind)", "value": "\(value)", "expires": "\(expires)", "audit": "true"])
        if kind == "object" {
            try requireReadable(value)
            guard let bytes = try blobs.get(value) else { throw FunctionError(status: 404, code: "NotFound", message: "the object is gone") }
            return FunctionResponse(status: 200, headers: ["content-type": "application/x-ndjson"], body: bytes)
        }
        let row = try await database.read { db in try Row.fetchOne(db, sql: "SELECT * FROM findings WHERE id = ?", arguments: [Int64(value) ?? -1]) }
        guard let row else { throw FunctionError(status: 404, code: "NotFound", message: "the finding is gone") }
        return Self.json(Self.dictionary(row))
    }

    // MARK: - Archive tier

    func lifecycle() async throws -> FunctionResponse {
        let (archived, expired) = try blobs.applyLifecycle(prefix: "segments/", archiveAfter: archiveAfterDays * 86_400, now: Date().timeIntervalSince1970)
        for key in archived { objectEvent("LifecycleTransition", key: key, size: nil) }
        if !archived.isEmpty || !expired.isEmpty {
            logger.info("lifecycle: \(archived.count) segments archived, \(expired.count) restored copies expired")
        }
        return Self.json(["archived": archived, "expiredRestores": expired])
    }

    func objects(_ r: FunctionRequest) async throws -> FunctionResponse {
        let prefix = r.query["prefix"] ?? ""
        var items: [[String: Any]] = []
        for key in Set(blobs.list(prefix: prefix) + blobs.listArchived(prefix: prefix)).sorted().prefix(10_000) {
            var item: [String: Any] = ["key": key]
            switch try blobs.tier(key) {
            case .hot?: item["tier"] = "hot"
            case .archived?: item["tier"] = "archived"
            case .restored(let until)?:
                item["tier"] = "restored"
                item["restoredUntil"] = Self.iso(until * 1_000)
            case nil: continue
            }
            item["storedBytes"] = blobs.storedSize(key) ?? NSNull()
            items.append(item)
        }
        return Self.json(["objects": items])
    }

    func restore(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        guard let key = o["key"] as? String else { throw FunctionError.badRequest("'key' is required") }
        let days = (o["days"] as? Double) ?? restoreDays
        guard days > 0 && days <= 365 else { throw FunctionError.badRequest("'days' must be above 0 and at most 365") }
        guard let tier = try blobs.tier(key) else { throw FunctionError(status: 404, code: "NotFound", message: "no object '\(key)'") }
        guard tier != .hot else { throw FunctionError(status: 409, code: "NotArchived", message: "\(key) is not in the archive tier") }
        let until = Int64(Date().timeIntervalSince1970 + days * 86_400)
        try blobs.restore(key, until: until)
        objectEvent("ObjectRestore:Completed", key: key, size: blobs.storedSize(key))
        logger.notice("object restored", metadata: ["key": "\(key)", "until": "\(until)", "audit": "true"])
        return Self.json(["key": key, "tier": "restored", "restoredUntil": Self.iso(until * 1_000)])
    }

    static func hourPrefix(_ ms: Int64) -> String {
        var time = time_t(ms / 1_000)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)/\(pad(parts.tm_mon + 1))/\(pad(parts.tm_mday))/\(pad(parts.tm_hour))/"
    }

    func segments(_ r: FunctionRequest) async throws -> FunctionResponse {
        let detector = r.query["detector"]
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM segments WHERE ? IS NULL OR detector = ? ORDER BY detector, first_seq LIMIT 10000", arguments: [detector, detector])
        }
        let totals = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, COALESCE(SUM(readings), 0) AS readings, COALESCE(SUM(stored_bytes), 0) AS stored FROM segments")
        }
        return Self.json([
            "segments": rows.map(Self.dictionary),
            "totals": ["segments": (totals?["n"] as Int?) ?? 0, "readings": (totals?["readings"] as Int?) ?? 0, "storedBytes": (totals?["stored"] as Int?) ?? 0],
        ])
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func iso(_ ms: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1_000))
    }
}

/// The durable per-detector log: readings appended with the next sequence number of their detector, concurrent
/// requests sharing one transaction (one fsync); a request's answer waits for its commit.
final class ReadingWriter: Sendable {
    struct Outcome: Sendable {
        var accepted = 0
        var duplicates = 0
        /// Last sequence number per detector written by this request.
        var last: [String: Int64] = [:]
    }

    let database: DatabasePool
    private let state = Mutex<(pending: [([Reading], CheckedContinuation<Outcome, any Error>)], running: Bool, next: [String: Int64], known: Set<String>)>(([], false, [:], []))
    private static let writers = Mutex<[String: ReadingWriter]>([:])

    init(database: DatabasePool) { self.database = database }

    static func shared(for path: String, database: DatabasePool) -> ReadingWriter {
        writers.withLock { w in
            if let writer = w[path] { return writer }
            let writer = ReadingWriter(database: database)
            w[path] = writer
            return writer
        }
    }

    /// The registered detectors among `ids` (cached once seen).
    func knownDetectors(_ ids: Set<String>) async throws -> Set<String> {
        let cached = state.withLock { $0.known }
        let missing = ids.subtracting(cached)
        guard !missing.isEmpty else { return ids }
        let found = try await database.read { db in
            try Set(String.fetchAll(db, sql: "SELECT id FROM detectors WHERE id IN (\(missing.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(Array(missing))))
        }
        state.withLock { $0.known.formUnion(found) }
        return ids.intersection(cached.union(found))
    }

    func append(_ readings: [Reading]) async throws -> Outcome {
        guard !readings.isEmpty else { return Outcome() }
        return try await withCheckedThrowingContinuation { c in
            let start = state.withLock { s -> Bool in
                s.pending.append((readings, c))
                if s.running { return false }
                s.running = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let (batch, next) = state.withLock { s -> ([([Reading], CheckedContinuation<Outcome, any Error>)], [String: Int64]) in
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { s.running = false }
                return (batch, s.next)
            }
            if batch.isEmpty { return }
            do {
                let (outcomes, advanced) = try await database.write { db -> ([Outcome], [String: Int64]) in
                    var next = next
                    var outcomes: [Outcome] = []
                    let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO readings (detector, seq, ts, body, rate) VALUES (?, ?, ?, ?, ?)")
                    for (readings, _) in batch {
                        var outcome = Outcome()
                        for reading in readings {
                            let seq: Int64
                            if let n = next[reading.detector] { seq = n } else {
                                seq = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM readings WHERE detector = ?", arguments: [reading.detector]) ?? 0) + 1
                            }
                            try insert.execute(arguments: [reading.detector, seq, reading.timestamp, reading.raw.isEmpty ? reading.json : reading.raw, reading.values["rate_hz"]])
                            if db.changesCount == 1 {
                                outcome.accepted += 1
                                outcome.last[reading.detector] = seq
                                next[reading.detector] = seq + 1
                            } else {
                                outcome.duplicates += 1
                                next[reading.detector] = seq
                            }
                        }
                        outcomes.append(outcome)
                    }
                    return (outcomes, next)
                }
                state.withLock { $0.next = advanced }
                for (i, item) in batch.enumerated() { item.1.resume(returning: outcomes[i]) }
            } catch {
                // The transaction rolled back: forget cached sequence numbers, they are re-read next time.
                state.withLock { $0.next = [:] }
                for item in batch { item.1.resume(throwing: error) }
            }
        }
    }
}
