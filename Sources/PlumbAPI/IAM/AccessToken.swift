/// A new API token for a user (`POST /api/v1/iam/users/{name}/tokens`): shown once, only its hash is kept.
public struct AccessToken: Codable, Sendable, Equatable {
    /// `plb_` and 43 characters of base64url.
    public var token: String

    public init(token: String) { self.token = token }
}
