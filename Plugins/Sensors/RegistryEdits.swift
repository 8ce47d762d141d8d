import Foundation
import GRDB
import PlumbKit

// Registry edits: rename and move what was registered, delete what nothing refers to. Deleting is refused (409) while
// something still hangs on the entry — a site's detectors, a detector's readings — and says what.
extension SensorsPlugin {
    /// `PATCH /projects/{id} {"name"}`.
    func updateProject(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        let o = try Self.object(r)
        guard let name = o["name"] as? String, Self.validName(name) else {
            throw FunctionError.badRequest("'name' must be 1–200 characters, no control characters")
        }
        try await update("project '\(id)'", sql: "UPDATE projects SET name = ? WHERE id = ?", [name, id])
        return Self.json(["id": id, "name": name])
    }

    /// `DELETE /projects/{id}`: only without sites.
    func deleteProject(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        try await delete(
            "project '\(id)'", from: "projects", id: id,
            blockers: [("sites", "SELECT COUNT(*) FROM sites WHERE project_id = ?")])
        return FunctionResponse(status: 204)
    }

    /// `PATCH /sites/{id} {"name", "latitude", "longitude"}` (any of them).
    func updateSite(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        let o = try Self.object(r)
        var sets: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        if let name = o["name"] {
            guard let name = name as? String, Self.validName(name) else {
                throw FunctionError.badRequest("'name' must be 1–200 characters, no control characters")
            }
            sets.append("name = ?")
            values.append(name)
        }
        for (key, range) in [("latitude", -90.0...90.0), ("longitude", -180.0...180.0)] where o[key] != nil {
            guard let value = o[key] as? Double, range.contains(value) else {
                throw FunctionError.badRequest(
                    "'\(key)' must be from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
            }
            sets.append("\(key) = ?")
            values.append(value)
        }
        guard !sets.isEmpty else { throw FunctionError.badRequest("give 'name', 'latitude' and/or 'longitude'") }
        try await update(
            "site '\(id)'", sql: "UPDATE sites SET \(sets.joined(separator: ", ")) WHERE id = ?", values + [id])
        return try await one("sites", id)
    }

    /// `DELETE /sites/{id}`: only without detectors placed there.
    func deleteSite(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        try await delete(
            "site '\(id)'", from: "sites", id: id,
            blockers: [
                ("detectors", "SELECT COUNT(*) FROM detectors WHERE site_id = ?"),
                ("deployments", "SELECT COUNT(*) FROM deployments WHERE site_id = ?"),
            ])
        return FunctionResponse(status: 204)
    }

    /// `PATCH /detectors/{id} {"model"}`; its place and status change through deployments.
    func updateDetector(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        let o = try Self.object(r)
        guard let model = o["model"] as? String, Self.validName(model) else {
            throw FunctionError.badRequest(
                "'model' must be 1–200 characters, no control characters (a detector moves with a deployment)")
        }
        try await update("detector '\(id)'", sql: "UPDATE detectors SET model = ? WHERE id = ?", [model, id])
        return try await detector(r)
    }

    /// `DELETE /detectors/{id}`: only one that never sent a reading (one that did is retired with a deployment).
    func deleteDetector(_ r: FunctionRequest) async throws -> FunctionResponse {
        let id = try Self.pathID(r)
        let exists = try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM detectors WHERE id = ?", arguments: [id]) ?? false
        }
        guard exists else { throw FunctionError(status: 404, code: "NotFound", message: "no detector '\(id)'") }
        let readings = try await database.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log WHERE detector = ?", arguments: [id]) ?? 0)
                + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM readings WHERE detector = ?", arguments: [id]) ?? 0)
        }
        guard readings == 0 else {
            throw FunctionError(
                status: 409, code: "InUse",
                message:
                    "detector '\(id)' has \(readings) readings: retire it with a deployment (status retrieved) instead")
        }
        try await database.write { db in
            try db.execute(sql: "DELETE FROM deployments WHERE detector_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM detectors WHERE id = ?", arguments: [id])
        }
        return FunctionResponse(status: 204)
    }

    /// `PATCH /detectors/{id}/deployments/{n} {"note"}`: entry `n` (1 is the registration, as `history` lists them)
    /// gets a corrected note; what happened stays.
    func updateDeployment(_ r: FunctionRequest) async throws -> FunctionResponse {
        let (id, number) = try Self.deploymentPath(r)
        let o = try Self.object(r)
        guard let note = o["note"] as? String, note.count <= 1_000,
            !note.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw FunctionError.badRequest("'note' must be at most 1,000 characters, no control characters")
        }
        let changed = try await database.write { db -> Bool in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM deployments WHERE detector_id = ? ORDER BY id", arguments: [id])
            guard ids.indices.contains(Int(number) - 1) else { return false }
            try db.execute(
                sql: "UPDATE deployments SET note = ? WHERE id = ?", arguments: [note, ids[Int(number) - 1]])
            return true
        }
        guard changed else {
            throw FunctionError(
                status: 404, code: "NotFound", message: "no deployment entry \(number) of detector '\(id)'")
        }
        return try await detector(r)
    }

    /// `DELETE /detectors/{id}/deployments/{n}`: only the newest entry (a mistaken move); the detector returns to
    /// the status and site of the entry before it. The first entry (its registration) stays.
    func deleteDeployment(_ r: FunctionRequest) async throws -> FunctionResponse {
        let (id, number) = try Self.deploymentPath(r)
        let outcome = try await database.write { db -> String? in
            let entries = try Row.fetchAll(
                db, sql: "SELECT id, site_id, status FROM deployments WHERE detector_id = ? ORDER BY id",
                arguments: [id])
            let index = Int(number) - 1
            guard entries.indices.contains(index) else { return "no deployment entry \(number) of detector '\(id)'" }
            guard index == entries.count - 1, index > 0 else {
                return "only the newest deployment entry can be deleted, and not the registration"
            }
            let previous = entries[index - 1]
            try db.execute(sql: "DELETE FROM deployments WHERE id = ?", arguments: [entries[index]["id"] as Int64])
            try db.execute(
                sql: "UPDATE detectors SET status = ?, site_id = ? WHERE id = ?",
                arguments: [previous["status"] as String, previous["site_id"] as String?, id])
            return nil
        }
        if let outcome {
            throw FunctionError(
                status: outcome.hasPrefix("no ") ? 404 : 409, code: outcome.hasPrefix("no ") ? "NotFound" : "Conflict",
                message: outcome)
        }
        return try await detector(r)
    }

    // MARK: Helpers

    static func pathID(_ r: FunctionRequest) throws -> String {
        let id = r.pathParameters["id"] ?? ""
        guard Reading.validDetector(id) else {
            throw FunctionError.badRequest("'id' must be 1–64 letters, digits, '_', '.' or '-'")
        }
        return id
    }

    static func deploymentPath(_ r: FunctionRequest) throws -> (String, Int64) {
        let id = try pathID(r)
        guard let number = Int64(r.pathParameters["number"] ?? ""), (1...1_000_000).contains(number) else {
            throw FunctionError.badRequest("'number' must be a deployment entry's number, 1 for the registration")
        }
        return (id, number)
    }

    static func validName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 200
            && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    func update(_ what: String, sql: String, _ values: [(any DatabaseValueConvertible)?]) async throws {
        let arguments = StatementArguments(values)
        let changed = try await database.write { db in
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
        guard changed > 0 else { throw FunctionError(status: 404, code: "NotFound", message: "no \(what)") }
    }

    func delete(_ what: String, from table: String, id: String, blockers: [(String, String)]) async throws {
        let problem = try await database.write { db -> String? in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE id = ?", arguments: [id]) ?? false else {
                return "missing"
            }
            for (name, sql) in blockers {
                let count = try Int.fetchOne(db, sql: sql, arguments: [id]) ?? 0
                if count > 0 { return "\(what) still has \(count) \(name)" }
            }
            try db.execute(sql: "DELETE FROM \(table) WHERE id = ?", arguments: [id])
            return nil
        }
        switch problem {
        case nil: return
        case "missing": throw FunctionError(status: 404, code: "NotFound", message: "no \(what)")
        case let message?:
            throw FunctionError(status: 409, code: "InUse", message: message + "; move or delete them first")
        }
    }

    func one(_ table: String, _ id: String) async throws -> FunctionResponse {
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE id = ?", arguments: [id])
        }
        guard let row else {
            throw FunctionError(status: 404, code: "NotFound", message: "no \(table.dropLast()) '\(id)'")
        }
        return Self.json(Self.dictionary(row))
    }
}
