/// How to reach the mail server (the config's `smtp:` section).
public struct SMTPSettings: Sendable, Equatable {
    /// `auto` uses STARTTLS when the server offers it; `required` refuses to send without it; `never` stays plain.
    public enum StartTLS: String, Sendable, CaseIterable {
        case auto, required, never
    }

    public var host: String
    public var port: Int
    public var startTLS: StartTLS
    public var username: String?
    public var password: String?
    /// The envelope sender and `From:` header.
    public var from: String
    /// The name sent in EHLO.
    public var heloName: String
    /// PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// Whether to check the server's certificate (turn off only for tests against self-signed servers).
    public var verifyCertificate: Bool
    /// Allows AUTH over an unencrypted connection (off: credentials never cross the wire in clear).
    public var allowPlaintextAuth: Bool
    /// Seconds for the whole conversation.
    public var timeout: Double

    public init(
        host: String = "127.0.0.1", port: Int = 25, startTLS: StartTLS = .auto, username: String? = nil,
        password: String? = nil,
        from: String = "plumb@localhost", heloName: String = "localhost", caFile: String? = nil,
        verifyCertificate: Bool = true,
        allowPlaintextAuth: Bool = false, timeout: Double = 30
    ) {
        self.host = host
        self.port = port
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.from = from
        self.heloName = heloName
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.allowPlaintextAuth = allowPlaintextAuth
        self.timeout = timeout
    }
}
