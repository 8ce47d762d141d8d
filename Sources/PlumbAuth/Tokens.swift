import Crypto
import Foundation
import Synchronization

/// Base64url without padding (JWS, JWK).
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !s.contains("=") else { return nil }
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map { [UInt8]($0) }
    }
}

/// Why a token was refused (never more detail than this to a client).
public struct TokenError: Error, CustomStringConvertible, Sendable, Equatable {
    public let reason: String
    public var description: String { reason }
}

/// ES256 signing keys for JWTs, with rotation: the newest key signs; a retired key stays in the JWKS (and verifies)
/// until every token it signed has expired. Kept in a JSON file readable by the server's user only.
public final class KeyRing: Sendable {
    public struct Key: Sendable, Codable, Equatable {
        public var kid: String
        /// The P-256 private key, raw, base64url.
        public var d: String
        public var created: Int64
        public var retired: Int64?

        /// The last second a token this key signed can be valid.
        func verifiesUntil(_ lifetime: Int64) -> Int64 { retired.map { $0 + lifetime } ?? .max }
    }

    private let state: Mutex<[Key]>
    private let path: String?
    /// The longest lifetime of a token these keys sign: a key retired longer ago than this is dropped.
    public let maxTokenLifetime: Int64

    /// Seconds after which the active key is replaced at the next signature (nil: only by `rotate`).
    public let rotateAfter: Int64?

    public init(path: String?, maxTokenLifetime: Int64, now: Int64, rotateAfter: Int64? = nil) throws {
        self.path = path
        self.maxTokenLifetime = maxTokenLifetime
        self.rotateAfter = rotateAfter
        var keys: [Key] = []
        if let path, let data = FileManager.default.contents(atPath: path) {
            keys = try JSONDecoder().decode([Key].self, from: data)
        }
        state = Mutex(keys)
        if keys.allSatisfy({ $0.retired != nil }) { try rotate(now: now) }
    }

    /// A new signing key; the current one is retired (it keeps verifying until its tokens expire).
    @discardableResult
    public func rotate(now: Int64) throws -> String {
        let key = P256.Signing.PrivateKey()
        let kid = Base64URL.encode(SHA256.hash(data: key.publicKey.x963Representation).prefix(12))
        let keys = state.withLock { keys -> [Key] in
            for i in keys.indices where keys[i].retired == nil { keys[i].retired = now }
            keys.removeAll { $0.verifiesUntil(maxTokenLifetime) < now }
            keys.append(Key(kid: kid, d: Base64URL.encode(key.rawRepresentation), created: now, retired: nil))
            return keys
        }
        try save(keys)
        return kid
    }

    func save(_ keys: [Key]) throws {
        guard let path else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = path + ".tmp"
        try JSONEncoder().encode(keys).write(to: URL(fileURLWithPath: temporary))
        chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else { throw TokenError(reason: "cannot write \(path)") }
    }

    public var activeKID: String? { state.withLock { $0.last { $0.retired == nil }?.kid } }

    func privateKey(_ key: Key) throws -> P256.Signing.PrivateKey {
        guard let raw = Base64URL.decode(key.d) else { throw TokenError(reason: "key \(key.kid) is damaged") }
        return try P256.Signing.PrivateKey(rawRepresentation: raw)
    }

    /// The JWKS document: every key still verifying at `now`.
    public func jwks(now: Int64) throws -> [String: Any] {
        let keys = state.withLock { $0.filter { $0.verifiesUntil(maxTokenLifetime) >= now } }
        return [
            "keys": try keys.map { key -> [String: Any] in
                let point = Array(try privateKey(key).publicKey.x963Representation)
                return [
                    "kty": "EC", "crv": "P-256", "x": Base64URL.encode(point[1..<33]),
                    "y": Base64URL.encode(point[33..<65]), "kid": key.kid, "use": "sig", "alg": "ES256",
                ]
            }
        ]
    }

    /// A signed JWT (ES256) of `claims` with the active key (replaced first when it is older than `rotateAfter`).
    public func sign(_ claims: [String: Any], now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> String {
        if let rotateAfter, let created = state.withLock({ $0.last { $0.retired == nil }?.created }),
            now - created >= rotateAfter
        {
            try rotate(now: now)
        }
        guard let key = state.withLock({ $0.last { $0.retired == nil } }) else {
            throw TokenError(reason: "no signing key")
        }
        let header = Base64URL.encode(
            try JSONSerialization.data(
                withJSONObject: ["alg": "ES256", "typ": "JWT", "kid": key.kid], options: [.sortedKeys]))
        let payload = Base64URL.encode(try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]))
        let input = header + "." + payload
        let signature = try privateKey(key).signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// The claims of a valid token: ES256 only, a known key, a good signature, not expired (`exp`), not early
    /// (`nbf`), and the issuer and audience expected. Anything else throws with the reason.
    public func verify(_ token: String, now: Int64, issuer: String, audience: String? = nil) throws -> [String: Any] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let payloadBytes = Base64URL.decode(parts[1]),
            let signatureBytes = Base64URL.decode(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any]
        else { throw TokenError(reason: "malformed token") }
        guard header["alg"] as? String == "ES256" else { throw TokenError(reason: "unsupported algorithm") }
        guard let kid = header["kid"] as? String,
            let key = state.withLock({ $0.first { $0.kid == kid && $0.verifiesUntil(maxTokenLifetime) >= now } })
        else { throw TokenError(reason: "unknown signing key") }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            try privateKey(key).publicKey.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8))
        else { throw TokenError(reason: "bad signature") }
        guard let exp = (claims["exp"] as? NSNumber)?.int64Value, exp > now else { throw TokenError(reason: "expired") }
        if let nbf = (claims["nbf"] as? NSNumber)?.int64Value, nbf > now + 30 {
            throw TokenError(reason: "not yet valid")
        }
        guard claims["iss"] as? String == issuer else { throw TokenError(reason: "wrong issuer") }
        if let audience {
            let aud = claims["aud"]
            guard aud as? String == audience || (aud as? [String])?.contains(audience) == true else {
                throw TokenError(reason: "wrong audience")
            }
        }
        return claims
    }
}
