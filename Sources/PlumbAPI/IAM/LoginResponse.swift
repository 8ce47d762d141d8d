/// The answer to a sign-in: an API token that expires (`iam.session_hours`) and whether a TOTP code was given with
/// it (members of `iam.require_mfa` groups reach only their own enrolment without one).
public struct LoginResponse: Codable, Sendable, Equatable {
    public var token: String
    /// RFC 3339, UTC.
    public var expiresAt: String
    public var mfa: Bool

    enum CodingKeys: String, CodingKey {
        case token, mfa
        case expiresAt = "expires_at"
    }

    public init(token: String, expiresAt: String, mfa: Bool) {
        self.token = token
        self.expiresAt = expiresAt
        self.mfa = mfa
    }
}
