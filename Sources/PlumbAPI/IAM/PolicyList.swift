/// `GET /api/v1/iam/policies`: every policy with its document, by name.
public struct PolicyList: Codable, Sendable, Equatable {
    public var policies: [PolicyDescription]

    public init(policies: [PolicyDescription]) { self.policies = policies }
}
