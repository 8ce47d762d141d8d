/// A plugin's WebSocket endpoint and its routes: `$connect`, `$disconnect`, `$default` and the actions it declared.
public struct WebSocketEndpoint: Codable, Sendable, Equatable {
    public var path: String
    public var plugin: String
    public var routes: [String]

    public init(path: String, plugin: String, routes: [String]) {
        self.path = path
        self.plugin = plugin
        self.routes = routes
    }
}
