import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

// Sharing (pre-signed URLs)
extension SensorsPlugin {
    static let sharedPath = "/apps/sensors/shared"

    /// What a share URL signs: method, path, the object or finding, and the expiry.
    static func canonical(kind: String, value: String, expires: Int64) -> String {
        "GET\n\(sharedPath)\n\(kind)=\(value)\n\(expires)"
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? text
    }

    /// `POST /shares {"object": KEY | "finding": ID, "expires_in": SECONDS}` → a URL that works without a token until
    /// it expires (1 s to 7 days, S3's limit).
    func share(_ r: FunctionRequest) async throws -> FunctionResponse {
        let o = try Self.object(r)
        guard let seconds = o["expires_in"] as? Int, (1...604_800).contains(seconds) else {
            throw FunctionError.badRequest("'expires_in' must be whole seconds from 1 to 604800")
        }
        let kind: String
        let value: String
        if let key = o["object"] as? String {
            guard (try? blobs.tier(key)) ?? nil != nil else {
                throw FunctionError(status: 404, code: "NotFound", message: "no object '\(key)'")
            }
            (kind, value) = ("object", key)
        } else if let id = o["finding"] as? Int {
            let exists = try await database.read { db in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM findings WHERE id = ?", arguments: [id]) ?? false
            }
            guard exists else { throw FunctionError(status: 404, code: "NotFound", message: "no finding \(id)") }
            (kind, value) = ("finding", String(id))
        } else {
            throw FunctionError.badRequest("give 'object' (a segment key) or 'finding' (an id)")
        }
        let expires = Int64(Date().timeIntervalSince1970) + Int64(seconds)
        let signature = host.sign(Self.canonical(kind: kind, value: value, expires: expires))
        let path = "\(Self.sharedPath)?\(kind)=\(Self.percentEncoded(value))&expires=\(expires)&signature=\(signature)"
        // From the configured public URL, never the request's Host header (a client could make the link point anywhere).
        let base = publicURL
        logger.notice(
            "share created",
            metadata: ["kind": "\(kind)", "value": "\(value)", "expires": "\(expires)", "audit": "true"])
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
        guard !kind.isEmpty, let expiresText = r.query["expires"], let expires = Int64(expiresText),
            let signature = r.query["signature"]
        else {
            throw refuse("a shared URL needs the object or finding, expires and signature")
        }
        guard host.verify(Self.canonical(kind: kind, value: value, expires: expires), signature: signature) else {
            throw refuse("the signature does not match this URL")
        }
        guard Int64(Date().timeIntervalSince1970) <= expires else {
            throw refuse("the URL expired at \(Self.iso(expires * 1_000))")
        }
        logger.notice(
            "share used", metadata: ["kind": "\(kind)", "value": "\(value)", "expires": "\(expires)", "audit": "true"])
        if kind == "object" {
            try requireReadable(value)
            guard let bytes = try blobs.get(value) else {
                throw FunctionError(status: 404, code: "NotFound", message: "the object is gone")
            }
            return FunctionResponse(status: 200, headers: ["content-type": "application/x-ndjson"], body: bytes)
        }
        let row = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM findings WHERE id = ?", arguments: [Int64(value) ?? -1])
        }
        guard let row else { throw FunctionError(status: 404, code: "NotFound", message: "the finding is gone") }
        return Self.json(Self.dictionary(row))
    }
}
