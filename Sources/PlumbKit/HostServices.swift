import Foundation

/// What the host does for a plugin beyond running it: invoking other functions (through the same instrumented
/// pipeline, so each call counts as an invocation of the callee) and posting to WebSocket connections (API
/// Gateway's `@connections`).
public protocol HostServices: Sendable {
    /// Invokes `<plugin>.<function>` synchronously; a throttle or a failure of the callee is thrown as its `FunctionError`.
    func invoke(_ function: String, _ request: FunctionRequest) async throws -> FunctionResponse
    /// Queues a text frame for a connection without waiting for it to be sent.
    func post(_ text: String, to connection: String) -> PostResult
    /// Closes a connection with a WebSocket close code and reason.
    func close(connection: String, code: Int, reason: String)
    /// Connections currently open on the WebSocket endpoints of `plugin`.
    func openConnections(plugin: String) -> Int
    /// Publishes to an SNS-style topic (durably queued for its email, webhook and function subscribers); returns
    /// the message id. Throws when the topic does not exist.
    func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String
    /// HMAC-SHA256 of `message` (hex) with the plugin's signing key (kept in its data directory, never shown).
    func sign(_ message: String) -> String
    /// Whether `signature` is `sign(message)`, compared in constant time.
    func verify(_ message: String, signature: String) -> Bool
    /// Writes one event to the platform's audit trail (`/plumb/audit`): who (`actor`) did what (`action`, e.g.
    /// `accounts:SignIn`) to what (`resource`), from where, with which result (`success`, `failed`, `denied`).
    /// Never pass a secret.
    func audit(action: String, actor: String, resource: String, source: String, result: String) async
    /// Sends a plain-text email with the server's SMTP sender (the `smtp` config); throws when there is none or the
    /// server refuses it.
    func sendEmail(to: String, subject: String, text: String) async throws
    /// `text` sealed (AES-GCM) under the server's secrets key, for a value the plugin must store and read back (a TOTP
    /// seed): what goes into the database is `enc:v1:…`, never the secret. `context` names the value (a column and a
    /// row); the host adds the plugin's name, so a sealed value opens only for the same plugin and context.
    func seal(_ text: String, context: String) throws -> String
    /// The text `seal` sealed with the same `context`; throws when it was not sealed so, or with another key.
    func unseal(_ sealed: String, context: String) throws -> String
}

extension HostServices {
    /// Hosts without an audit trail drop the event.
    public func audit(action: String, actor: String, resource: String, source: String, result: String) async {}
    public func sendEmail(to: String, subject: String, text: String) async throws {
        throw FunctionError(status: 503, code: "NoMailSender", message: "this host sends no email")
    }
    /// Hosts without a secrets key refuse to store secrets rather than store them in clear.
    public func seal(_ text: String, context: String) throws -> String {
        throw FunctionError(status: 503, code: "NoSecretsKey", message: "this host has no secrets key")
    }
    public func unseal(_ sealed: String, context: String) throws -> String {
        throw FunctionError(status: 503, code: "NoSecretsKey", message: "this host has no secrets key")
    }
    /// Whether `value` is in the form `seal` returns (a value stored before sealing was introduced is not).
    public func isSealed(_ value: String) -> Bool { value.hasPrefix("enc:v1:") }
}

/// What became of a post to a connection.
public enum PostResult: Sendable, Equatable {
    /// Queued for sending.
    case queued
    /// No such connection (API Gateway's 410 Gone): it closed, or never existed on this server.
    case gone
    /// The connection's send buffer was full: it is being closed as a slow consumer.
    case overflowed
}

/// A host that offers nothing: for plugins run outside a server (unit tests of a plugin's logic).
public struct NoHostServices: HostServices {
    public init() {}
    public func invoke(_ function: String, _ request: FunctionRequest) async throws -> FunctionResponse {
        throw FunctionError(status: 404, code: "ResourceNotFoundException", message: "no host to invoke \(function)")
    }
    public func post(_ text: String, to connection: String) -> PostResult { .gone }
    public func close(connection: String, code: Int, reason: String) {}
    public func openConnections(plugin: String) -> Int { 0 }
    public func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String {
        throw FunctionError(status: 404, code: "NotFound", message: "no host to publish to \(topic)")
    }
    public func sign(_ message: String) -> String { "" }
    public func verify(_ message: String, signature: String) -> Bool { false }
}

extension FunctionContext {
    /// Invokes another function through the host (instrumented and throttled as its own function).
    public func invoke(_ function: String, _ request: FunctionRequest) async throws -> FunctionResponse {
        try await plugin.host.invoke(function, request)
    }

    /// Queues `text` for the WebSocket connection `id`.
    @discardableResult
    public func post(_ text: String, to id: String) -> PostResult {
        plugin.host.post(text, to: id)
    }
}
