/// A policy by name with its document (`GET /api/v1/iam/policies`, `GET /api/v1/iam/policies/{name}`).
public struct PolicyDescription: Codable, Sendable, Equatable {
    public var name: String
    public var document: PolicyDocument

    public init(name: String, document: PolicyDocument) {
        self.name = name
        self.document = document
    }
}
