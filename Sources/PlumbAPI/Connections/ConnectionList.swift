/// `GET /api/v1/connections`: open WebSocket connections (API Gateway's `@connections`), per plugin and per endpoint.
public struct ConnectionList: Codable, Sendable, Equatable {
    public var open: Int
    public var perPlugin: [String: Int]
    public var endpoints: [WebSocketEndpoint]
    /// The first 1,000 by id.
    public var connections: [ConnectionDescription]

    public init(
        open: Int, perPlugin: [String: Int], endpoints: [WebSocketEndpoint], connections: [ConnectionDescription]
    ) {
        self.open = open
        self.perPlugin = perPlugin
        self.endpoints = endpoints
        self.connections = connections
    }
}
