/// One line of the platform's audit trail written for a plugin (`HostServices.audit`).
public struct AuditEvent: Sendable, Equatable {
    /// What was done, e.g. `accounts:SignIn`.
    public var action: String
    /// Who did it.
    public var actor: String
    /// To what.
    public var resource: String
    /// From where (an address).
    public var source: String
    /// `success`, `failed` or `denied`.
    public var result: String

    public init(action: String, actor: String, resource: String, source: String, result: String) {
        self.action = action
        self.actor = actor
        self.resource = resource
        self.source = source
        self.result = result
    }
}
