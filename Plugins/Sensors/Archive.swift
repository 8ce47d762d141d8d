import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Archive tier
extension SensorsPlugin {
    func lifecycle() async throws -> FunctionResponse {
        let (archived, expired) = try blobs.applyLifecycle(
            prefix: "segments/", archiveAfter: archiveAfterDays * 86_400, now: Date().timeIntervalSince1970)
        for key in archived { await objectEvent("LifecycleTransition", key: key, size: nil) }
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
        guard let tier = try blobs.tier(key) else {
            throw FunctionError(status: 404, code: "NotFound", message: "no object '\(key)'")
        }
        guard tier != .hot else {
            throw FunctionError(status: 409, code: "NotArchived", message: "\(key) is not in the archive tier")
        }
        let until = Int64(Date().timeIntervalSince1970 + days * 86_400)
        try blobs.restore(key, until: until)
        await objectEvent("ObjectRestore:Completed", key: key, size: blobs.storedSize(key))
        logger.notice("object restored", metadata: ["key": "\(key)", "until": "\(until)", "audit": "true"])
        return Self.json(["key": key, "tier": "restored", "restoredUntil": Self.iso(until * 1_000)])
    }

    func segments(_ r: FunctionRequest) async throws -> FunctionResponse {
        let detector = r.query["detector"]
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM segments WHERE ? IS NULL OR detector = ? ORDER BY detector, first_seq LIMIT 10000",
                arguments: [detector, detector])
        }
        let totals = try await database.read { db in
            try Row.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) AS n, COALESCE(SUM(readings), 0) AS readings, COALESCE(SUM(stored_bytes), 0) AS stored FROM segments"
            )
        }
        return Self.json([
            "segments": rows.map(Self.dictionary),
            "totals": [
                "segments": (totals?["n"] as Int?) ?? 0, "readings": (totals?["readings"] as Int?) ?? 0,
                "storedBytes": (totals?["stored"] as Int?) ?? 0,
            ],
        ])
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func iso(_ ms: Int64) -> String { RFC3339.format(milliseconds: ms) }
}
