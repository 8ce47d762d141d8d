/// The answer of `GET /healthz` (`ok`: the process answers) and `GET /readyz` (`ready`: stores and plugins are up).
public struct HealthStatus: Sendable, Equatable, Codable {
    public var status: String

    public init(status: String) { self.status = status }
}
