/// What the platform around the plugin host does for plugins: topics, the audit trail, mail and the secrets key.
///
/// The host hands these to each plugin through `HostServices` (adding the plugin's name where it scopes them); the
/// server implements them with its outbox, log store, SMTP client and secrets key and gives them to `PluginHost` when
/// it builds it, so nothing is patched into the host afterwards. `StandalonePlatform` is the host without a server
/// (tests, the invoke benchmark).
public protocol PlatformServices: Sendable {
    /// Publishes to a topic (durably queued for its subscribers); returns the message id. Throws a `FunctionError`
    /// (404) when the topic does not exist.
    func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String
    /// Writes one event to the platform's audit trail; never fails the caller (a lost audit line is logged).
    func audit(_ event: AuditEvent) async
    /// Sends a plain-text email; throws a `FunctionError` when there is no sender or the address is not one.
    func sendEmail(to: String, subject: String, text: String) async throws
    /// `text` sealed under the platform's secrets key for `context` (the host prefixes the plugin's name).
    func seal(_ text: String, context: String) throws -> String
    /// What `seal` sealed with the same `context`.
    func unseal(_ sealed: String, context: String) throws -> String
}
