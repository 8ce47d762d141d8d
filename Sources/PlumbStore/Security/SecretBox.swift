import Crypto
import Foundation

/// Secrets at rest: values a database must give back (webhook signing secrets, TOTP seeds) are stored sealed with
/// AES-256-GCM under one key per server, never in clear.
///
/// The key is 32 random bytes, base64, in `<data>/secrets.key` (mode 0600, created on first start), or in an
/// environment variable the config names (`secrets_key_env`), so that it can live apart from the data: a copy of the
/// databases alone (a backup, a stolen disk image without the key) then holds no usable secret. A sealed value is
/// `enc:v1:` and the base64 of nonce, ciphertext and tag; the `context` (which column of which row) is authenticated
/// with it, so a sealed value copied to another row or column does not open.
public struct SecretBox: Sendable {
    public static let fileName = "secrets.key"
    public static let prefix = "enc:v1:"
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The server's box: the key from `environmentVariable` when one is named, else from `<dataDirectory>/secrets.key`,
    /// made on first use (the first writer wins when several stores start at once).
    public static func load(
        dataDirectory: String, environmentVariable: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SecretBox {
        if let name = environmentVariable {
            guard let value = environment[name], !value.isEmpty else {
                throw StoreError(
                    code: .invalid, message: "secrets_key_env names \(name), but that environment variable is not set")
            }
            guard let key = decodeKey(value) else {
                throw StoreError(
                    code: .invalid, message: "\(name) must hold 32 bytes in base64 (openssl rand -base64 32)")
            }
            return SecretBox(key: key)
        }
        let path = dataDirectory + "/" + fileName
        if let key = try readKey(path) { return SecretBox(key: key) }
        try FileManager.default.createDirectory(
            atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fresh = SymmetricKey(size: .bits256)
        let text = fresh.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let temporary = path + ".\(UUID().uuidString).tmp"
        let fd = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(code: .io, message: "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.utf8.count, synced else {
            throw StoreError(code: .io, message: "cannot write \(temporary)")
        }
        // link(2) fails when the file exists: then another store made the key first, and that one is used.
        if link(temporary, path) == 0 { return SecretBox(key: fresh) }
        guard let existing = try readKey(path) else { throw StoreError(code: .io, message: "cannot read \(path)") }
        return SecretBox(key: existing)
    }

    static func readKey(_ path: String) throws -> SymmetricKey? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let key = decodeKey(String(decoding: data, as: UTF8.self)) else {
            throw StoreError(
                code: .corrupt,
                message:
                    "\(path) does not hold a 32-byte key in base64; restore it from a backup (without it the stored secrets cannot be read)"
            )
        }
        return key
    }

    static func decodeKey(_ text: String) -> SymmetricKey? {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32
        else { return nil }
        return SymmetricKey(data: bytes)
    }

    public static func isSealed(_ value: String) -> Bool { value.hasPrefix(prefix) }

    /// `bytes` sealed for `context` (e.g. `notify.subscriptions.secret/<id>`).
    public func seal(_ bytes: some DataProtocol, context: String) throws -> String {
        let box = try AES.GCM.seal(bytes, using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw StoreError(code: .invalid, message: "cannot seal a secret") }
        return Self.prefix + combined.base64EncodedString()
    }

    public func seal(_ text: String, context: String) throws -> String { try seal(Data(text.utf8), context: context) }

    /// The bytes a sealed value holds; throws when the key or the context differ from the sealing ones.
    public func open(_ sealed: String, context: String) throws -> [UInt8] {
        guard Self.isSealed(sealed), let combined = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count)))
        else {
            throw StoreError(code: .corrupt, message: "the stored secret of \(context) is not sealed")
        }
        do {
            return Array(
                try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: Data(context.utf8)))
        } catch {
            throw StoreError(
                code: .corrupt,
                message:
                    "the stored secret of \(context) does not open: the secrets key is not the one that sealed it (was secrets.key replaced, or secrets_key_env changed?)"
            )
        }
    }

    public func openText(_ sealed: String, context: String) throws -> String {
        String(decoding: try open(sealed, context: context), as: UTF8.self)
    }
}
