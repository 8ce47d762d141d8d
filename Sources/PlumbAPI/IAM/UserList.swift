/// `GET /api/v1/iam/users`: every user, by name.
public struct UserList: Codable, Sendable, Equatable {
    public var users: [UserDescription]

    public init(users: [UserDescription]) { self.users = users }
}
