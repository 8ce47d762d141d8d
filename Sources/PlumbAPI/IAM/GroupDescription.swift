/// A group as `GET /api/v1/iam/groups` lists it: its members and the policies attached to it.
public struct GroupDescription: Codable, Sendable, Equatable {
    public var name: String
    public var members: [String]
    public var policies: [String]

    public init(name: String, members: [String], policies: [String]) {
        self.name = name
        self.members = members
        self.policies = policies
    }
}
