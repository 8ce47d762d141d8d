import PlumbKit
import PlumbStore

/// The platform of a host that runs without a server (unit tests of plugins, `plumb bench-invoke`): no topics, no
/// mail, no audit trail, and the secrets key of the data directory.
public struct StandalonePlatform: PlatformServices {
    let secrets: SecretBox

    public init(secrets: SecretBox) {
        self.secrets = secrets
    }

    public func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String {
        throw FunctionError(status: 503, code: "ServiceUnavailable", message: "this host has no topics")
    }

    /// Dropped: there is no trail to write to.
    public func audit(_ event: AuditEvent) async {}

    public func sendEmail(to: String, subject: String, text: String) async throws {
        throw FunctionError(
            status: 503, code: "NoMailSender",
            message: "no SMTP server is configured (the `smtp` section of the config)")
    }

    public func seal(_ text: String, context: String) throws -> String {
        try secrets.seal(text, context: context)
    }

    public func unseal(_ sealed: String, context: String) throws -> String {
        try secrets.openText(sealed, context: context)
    }
}
