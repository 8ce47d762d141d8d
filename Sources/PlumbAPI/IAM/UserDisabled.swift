/// The answer to `POST /api/v1/iam/users/{name}/disable`: always `{"disabled": true}`.
public struct UserDisabled: Codable, Sendable, Equatable {
    public var disabled: Bool

    public init(disabled: Bool = true) { self.disabled = disabled }
}
