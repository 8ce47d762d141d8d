/// `GET /api/v1/iam/whoami`: the user behind the request's token and its sign-in state (`plumb mfa status`).
public struct WhoAmI: Codable, Sendable, Equatable {
    public var user: String
    public var groups: [String]
    /// Whether this token was given with a TOTP code.
    public var mfa: Bool
    /// Whether the user has a TOTP device in force.
    public var mfaEnabled: Bool
    /// Whether the config (`iam.require_mfa`) requires this user to sign in with a code.
    public var mfaRequired: Bool
    /// When this token expires (RFC 3339); absent for a token an admin made, which lives until revoked.
    public var expiresAt: String?

    enum CodingKeys: String, CodingKey {
        case user, groups, mfa
        case mfaEnabled = "mfa_enabled"
        case mfaRequired = "mfa_required"
        case expiresAt = "expires_at"
    }

    public init(user: String, groups: [String], mfa: Bool, mfaEnabled: Bool, mfaRequired: Bool, expiresAt: String?) {
        self.user = user
        self.groups = groups
        self.mfa = mfa
        self.mfaEnabled = mfaEnabled
        self.mfaRequired = mfaRequired
        self.expiresAt = expiresAt
    }
}
