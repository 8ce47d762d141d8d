import Crypto
import Foundation
import PlumbKit
import PlumbStore

/// The host's side of `HostServices`, handed to every plugin: invocations and connections from the host, topics,
/// mail, the audit trail and the secrets key from the platform, each scoped to the plugin where it must be.
final class HostBridge: HostServices {
    weak let host: PluginHost?
    let key: SymmetricKey
    let plugin: String
    let platform: any PlatformServices

    init(host: PluginHost, plugin: String, key: SymmetricKey, platform: any PlatformServices) {
        self.host = host
        self.plugin = plugin
        self.key = key
        self.platform = platform
    }

    /// Sealed under `plugins/<plugin>/<context>`, so a value opens only for the plugin (and context) that sealed it.
    func seal(_ text: String, context: String) throws -> String {
        try platform.seal(text, context: "plugins/\(plugin)/\(context)")
    }

    func unseal(_ sealed: String, context: String) throws -> String {
        do {
            return try platform.unseal(sealed, context: "plugins/\(plugin)/\(context)")
        } catch let error as StoreError {
            throw FunctionError(status: 500, code: "ServiceException", message: error.message)
        }
    }

    /// The plugin's signing key: 32 random bytes in `signing.key` (mode 0600), made on first use.
    static func signingKey(directory: String) throws -> SymmetricKey {
        // Every instance of every function of a plugin must sign with the same key: one per directory in memory,
        // and on disk the first writer wins (a hard link fails when the file exists; then the existing key is read).
        try keys.get(directory) {
            let path = directory + "/signing.key"
            if let data = FileManager.default.contents(atPath: path), data.count == 32 {
                return SymmetricKey(data: data)
            }
            let key = SymmetricKey(size: .bits256)
            let data = key.withUnsafeBytes { Data($0) }
            let temporary = path + ".\(UUID().uuidString).tmp"
            guard
                FileManager.default.createFile(
                    atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
            else {
                throw FunctionError(status: 500, code: "ServiceException", message: "cannot write \(path)")
            }
            defer { unlink(temporary) }
            if link(temporary, path) == 0 { return key }
            guard let existing = FileManager.default.contents(atPath: path), existing.count == 32 else {
                throw FunctionError(status: 500, code: "ServiceException", message: "cannot read \(path)")
            }
            return SymmetricKey(data: existing)
        }
    }

    static let keys = SharedInstances<SymmetricKey>()

    func sign(_ message: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }

    func verify(_ message: String, signature: String) -> Bool {
        guard signature.count == 64, signature.allSatisfy(\.isHexDigit) else { return false }
        var bytes: [UInt8] = []
        var index = signature.startIndex
        while index < signature.endIndex {
            let next = signature.index(index, offsetBy: 2)
            bytes.append(UInt8(signature[index..<next], radix: 16) ?? 0)
            index = next
        }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Data(message.utf8), using: key)
    }

    func invoke(_ function: String, _ request: FunctionRequest) async throws -> FunctionResponse {
        guard let host, let f = host.function(named: function) else {
            throw FunctionError(
                status: 404, code: "ResourceNotFoundException", message: "no function named \(function)")
        }
        return try await host.invoke(f, request)
    }

    func post(_ text: String, to connection: String) -> PostResult {
        host?.connections.post(text, to: connection) ?? .gone
    }

    func close(connection: String, code: Int, reason: String) {
        host?.connections.close(connection, code: code, reason: reason)
    }

    func openConnections(plugin: String) -> Int { host?.connections.count(plugin: plugin) ?? 0 }

    func sendEmail(to: String, subject: String, text: String) async throws {
        try await platform.sendEmail(to: to, subject: subject, text: text)
    }

    func audit(action: String, actor: String, resource: String, source: String, result: String) async {
        await platform.audit(
            AuditEvent(action: action, actor: actor, resource: resource, source: source, result: result))
    }

    func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String {
        try await platform.publish(topic: topic, subject: subject, message: message, attributes: attributes)
    }
}
