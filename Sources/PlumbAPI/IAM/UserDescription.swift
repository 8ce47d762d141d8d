/// A platform user as `GET /api/v1/iam/users` lists it: the groups it is in and the policies attached to it directly.
public struct UserDescription: Codable, Sendable, Equatable {
    public var name: String
    /// A disabled user's tokens stop working at once; the user stays for the audit trail.
    public var disabled: Bool
    public var groups: [String]
    public var policies: [String]

    public init(name: String, disabled: Bool, groups: [String], policies: [String]) {
        self.name = name
        self.disabled = disabled
        self.groups = groups
        self.policies = policies
    }
}
