import Crypto
import Foundation

/// Signed, expiring links to the read-only alarm page: `<public_url>/alarms/NAME?exp=EPOCH&sig=SIG`.
///
/// `SIG` is the HMAC-SHA256 of the alarm's name and the expiry under a key only this server holds (base64url, no
/// padding), so a link opens one alarm's page until it expires and nothing else: changing the name or the expiry
/// breaks the signature. The key is 32 random bytes in `<data>/alarm-links.key` (mode 0600, made on first start);
/// deleting it revokes every link sent so far. Signatures are checked in constant time (swift-crypto's
/// `isValidAuthenticationCode`), so a guess learns nothing from how long the refusal took.
public struct AlarmLinks: Sendable {
    public static let fileName = "alarm-links.key"
    /// The route, without the name.
    public static let pathPrefix = "/alarms/"

    let key: SymmetricKey
    /// Base URL of the links (`ServerConfig.resolvedPublicURL`), without a trailing slash.
    public let publicURL: String
    /// Seconds a link works after it was made.
    public let expiry: Int64

    public init(key: SymmetricKey, publicURL: String, expiry: Int64) {
        self.key = key
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.expiry = expiry
    }

    /// The server's links: the key from `<dataDirectory>/alarm-links.key`, made on first use (the first writer wins
    /// when two processes start at once).
    public static func load(dataDirectory: String, publicURL: String, expiry: Int64) throws -> AlarmLinks {
        AlarmLinks(key: try loadKey(dataDirectory + "/" + fileName), publicURL: publicURL, expiry: expiry)
    }

    static func loadKey(_ path: String) throws -> SymmetricKey {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else {
                throw ConfigError(
                    "\(path) does not hold a 32-byte key; delete it to have a new one made (links sent so far stop working)"
                )
            }
            return SymmetricKey(data: data)
        }
        let fresh = SymmetricKey(size: .bits256)
        let bytes = fresh.withUnsafeBytes { Array($0) }
        let temporary = path + ".\(UUID().uuidString).tmp"
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        defer { unlink(temporary) }
        let written = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { throw ConfigError("cannot write \(temporary)") }
        // link(2) fails when the file exists: another process made the key first, and that one is used.
        if Glibc.link(temporary, path) == 0 { return fresh }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw ConfigError("cannot read \(path)")
        }
        return SymmetricKey(data: data)
    }

    /// The link to `name`'s page, made at `now`, and when it expires.
    public func link(for name: String, now: Int64) -> (url: String, expires: Int64) {
        let expires = now.addingReportingOverflow(expiry).overflow ? Int64.max : now + expiry
        let path = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", ";"])) ?? name
        return (
            publicURL + Self.pathPrefix + path + "?exp=\(expires)&sig=\(signature(name: name, expires: expires))",
            expires
        )
    }

    /// The base64url HMAC-SHA256 of the name and the expiry.
    public func signature(name: String, expires: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.signed(name: name, expires: expires), using: key)
        return Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }

    /// Whether `signature` (base64url, as `signature(name:expires:)` makes it) is this server's for the name and
    /// expiry; compared in constant time. The expiry itself is the caller's to check.
    public func verify(name: String, expires: Int64, signature: String) -> Bool {
        guard let mac = Self.decodeBase64URL(signature), mac.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            mac, authenticating: Self.signed(name: name, expires: expires), using: key)
    }

    /// What is signed: a label (a signature for anything else never matches), the name's length and the name (alarm
    /// names may hold any printable character), and the expiry.
    static func signed(name: String, expires: Int64) -> Data {
        Data("plumb-alarm-page-v1\n\(name.utf8.count):\(name)\n\(expires)".utf8)
    }

    /// The 43 characters of a base64url SHA-256 MAC.
    public static let signatureLength = 43

    static func decodeBase64URL(_ text: String) -> Data? {
        guard text.utf8.count == signatureLength,
            text.unicodeScalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
            })
        else { return nil }
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
        return Data(base64Encoded: standard)
    }
}
