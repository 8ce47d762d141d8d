/// `GET /api/v1/iam/groups`: every group, by name (the seeded ones included).
public struct GroupList: Codable, Sendable, Equatable {
    public var groups: [GroupDescription]

    public init(groups: [GroupDescription]) { self.groups = groups }
}
