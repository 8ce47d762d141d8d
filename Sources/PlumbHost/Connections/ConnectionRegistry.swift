import Crypto
import Foundation
import PlumbKit
import PlumbStore
import Synchronization

/// One open connection as the transport sees it: a bounded send queue and a way to close.
public protocol ConnectionSink: AnyObject, Sendable {
    /// Queues a text frame without waiting; over the buffer limit the connection closes as a slow consumer.
    func enqueue(_ text: String) -> PostResult
    func close(code: Int, reason: String)
}

/// Every open WebSocket connection by id: what `@connections` posts go through.
public final class ConnectionRegistry: Sendable {
    struct Entry {
        let plugin: String
        let sink: any ConnectionSink
    }

    private let state = Mutex<(byID: [String: Entry], perPlugin: [String: Int])>(([:], [:]))

    public init() {}

    public func register(_ id: String, plugin: String, sink: any ConnectionSink) {
        state.withLock { s in
            s.byID[id] = Entry(plugin: plugin, sink: sink)
            s.perPlugin[plugin, default: 0] += 1
        }
    }

    public func remove(_ id: String) {
        state.withLock { s in
            guard let entry = s.byID.removeValue(forKey: id) else { return }
            s.perPlugin[entry.plugin, default: 1] -= 1
        }
    }

    public func post(_ text: String, to id: String) -> PostResult {
        guard let sink = state.withLock({ $0.byID[id]?.sink }) else { return .gone }
        return sink.enqueue(text)
    }

    public func close(_ id: String, code: Int, reason: String) {
        state.withLock { $0.byID[id]?.sink }?.close(code: code, reason: reason)
    }

    /// Up to `limit` open connections as (id, plugin), sorted by id.
    public func list(limit: Int) -> [(id: String, plugin: String)] {
        let all: [(id: String, plugin: String)] = state.withLock { s in s.byID.map { (id: $0.key, plugin: $0.value.plugin) } }
        return Array(all.sorted { $0.id < $1.id }.prefix(limit))
    }

    /// Every open connection's sink.
    public var sinks: [any ConnectionSink] { state.withLock { $0.byID.values.map(\.sink) } }

    public func contains(_ id: String) -> Bool { state.withLock { $0.byID[id] != nil } }

    public func count(plugin: String) -> Int { state.withLock { $0.perPlugin[plugin, default: 0] } }

    public var count: Int { state.withLock { $0.byID.count } }
}

/// The host's side of `HostServices`, handed to every plugin.
final class HostBridge: HostServices {
    weak let host: PluginHost?
    let key: SymmetricKey
    let plugin: String
    /// The server's secrets key, for `seal`/`unseal`.
    let secrets: SecretBox

    init(host: PluginHost, plugin: String, key: SymmetricKey, secrets: SecretBox) {
        self.host = host
        self.plugin = plugin
        self.key = key
        self.secrets = secrets
    }

    func seal(_ text: String, context: String) throws -> String {
        try secrets.seal(text, context: "plugins/\(plugin)/\(context)")
    }

    func unseal(_ sealed: String, context: String) throws -> String {
        do {
            return try secrets.openText(sealed, context: "plugins/\(plugin)/\(context)")
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
            if let data = FileManager.default.contents(atPath: path), data.count == 32 { return SymmetricKey(data: data) }
            let key = SymmetricKey(size: .bits256)
            let data = key.withUnsafeBytes { Data($0) }
            let temporary = path + ".\(UUID().uuidString).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
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
            throw FunctionError(status: 404, code: "ResourceNotFoundException", message: "no function named \(function)")
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
        guard let mailer = host?.mailer.withLock({ $0 }) else {
            throw FunctionError(status: 503, code: "NoMailSender", message: "no SMTP server is configured (the `smtp` section of the config)")
        }
        try await mailer(to, subject, text)
    }

    func audit(action: String, actor: String, resource: String, source: String, result: String) {
        host?.auditor.withLock { $0 }?(action, actor, resource, source, result)
    }

    func publish(topic: String, subject: String, message: String, attributes: [String: String]) throws -> String {
        guard let publisher = host?.publisher.withLock({ $0 }) else {
            throw FunctionError(status: 503, code: "ServiceUnavailable", message: "this host has no topics")
        }
        return try publisher(topic, subject, message, attributes)
    }
}

extension BlobStore: BlobStoring {
    public func tier(_ key: String) throws -> BlobTier? {
        switch try tier(key) as BlobStore.Tier? {
        case .none: nil
        case .hot: .hot
        case .archived: .archived
        case .restored(let until): .restored(until: until)
        }
    }
}
