import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Images
extension ClassifierPlugin {
    func uploadImage(_ request: FunctionRequest) async throws -> FunctionResponse {
        let key = request.pathParameters["key"] ?? ""
        guard Self.validName(key) else {
            throw FunctionError.badRequest("the key must be 1–100 letters, digits, '_', '.' or '-'")
        }
        guard request.body.count <= Self.maxImageBytes else {
            throw FunctionError(
                status: 413, code: "ImageTooLarge", message: "images are limited to \(Self.maxImageBytes) bytes")
        }
        let image: DecodedImage
        let format: DecodedImage.Format
        do {
            (image, format) = try DecodedImage.decode(request.body, maxPixels: Self.maxImagePixels)
        } catch let error as DecodedImage.DecodeError {
            throw FunctionError(
                status: error.status,
                code: error.status == 415 ? "UnsupportedMediaType" : error.status == 413 ? "ImageTooLarge" : "BadImage",
                message: error.message)
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
        let exists = try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE key = ?", arguments: [key]) ?? false
        }
        guard !exists else {
            throw FunctionError(status: 409, code: "KeyExists", message: "an image with key '\(key)' exists")
        }
        try FileManager.default.createDirectory(atPath: directory + "/images", withIntermediateDirectories: true)
        // The file first, then the row: a crash between them leaves an orphan file, never a row without its image.
        try Data(request.body).write(to: URL(fileURLWithPath: directory + "/" + blob), options: .atomic)
        let featureText = String(decoding: try JSONEncoder().encode(features), as: UTF8.self)
        let (cls, conf, ver) = (predicted, confidence, modelVersion)
        do {
            try await database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO images (key, content_type, width, height, bytes, path, features, predicted, confidence, model_version, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key, format.rawValue, image.width, image.height, request.body.count, blob, featureText, cls,
                        conf, ver, now,
                    ])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw FunctionError(status: 409, code: "KeyExists", message: "an image with key '\(key)' exists")
        }
        return Self.json(
            Self.imageJSON(
                key: key, contentType: format.rawValue, width: image.width, height: image.height,
                bytes: request.body.count,
                predicted: predicted, confidence: confidence, version: modelVersion, label: nil, createdAt: now),
            status: 201)
    }

    static func imageJSON(
        key: String, contentType: String, width: Int, height: Int, bytes: Int, predicted: String?, confidence: Double?,
        version: Int?,
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
            key: row["key"], contentType: row["content_type"], width: row["width"], height: row["height"],
            bytes: row["bytes"],
            predicted: row["predicted"], confidence: row["confidence"], version: row["model_version"],
            label: row["label"], createdAt: row["created_at"])
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
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
        }
        let items = rows.prefix(limit).map(Self.imageJSON)
        var body: [String: Any] = ["items": items]
        body["next"] = rows.count > limit ? (items.last?["key"] ?? NSNull()) : NSNull()
        return Self.json(body)
    }

    func imageRow(_ request: FunctionRequest) async throws -> Row {
        let key = request.pathParameters["key"] ?? ""
        guard
            let row = try await database.read({ db in
                try Row.fetchOne(db, sql: "SELECT * FROM images WHERE key = ?", arguments: [key])
            })
        else {
            throw FunctionError(status: 404, code: "NotFound", message: "no image with key '\(key)'")
        }
        return row
    }

    func image(_ request: FunctionRequest) async throws -> FunctionResponse {
        Self.json(Self.imageJSON(try await imageRow(request)))
    }

    func imageRaw(_ request: FunctionRequest) async throws -> FunctionResponse {
        let row = try await imageRow(request)
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + (row["path"] as String)))
        return FunctionResponse(status: 200, headers: ["content-type": row["content_type"]], body: Array(data))
    }

    func labelImage(_ request: FunctionRequest) async throws -> FunctionResponse {
        let key = request.pathParameters["key"] ?? ""
        struct Body: Decodable { let label: String }
        let label = try request.decode(Body.self).label.trimmingCharacters(in: .whitespaces)
        guard Self.validName(label, max: 64) else {
            throw FunctionError.badRequest("'label' must be 1–64 letters, digits, '_', '.' or '-'")
        }
        let changed = try await database.write { db -> Int in
            try db.execute(
                sql: "UPDATE images SET label = ?, labelled_at = ? WHERE key = ?",
                arguments: [label, Date().timeIntervalSince1970, key])
            return db.changesCount
        }
        guard changed == 1 else {
            throw FunctionError(status: 404, code: "NotFound", message: "no image with key '\(key)'")
        }
        return Self.json(Self.imageJSON(try await imageRow(request)))
    }
}
