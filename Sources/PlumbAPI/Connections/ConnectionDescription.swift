/// One open WebSocket connection: its id (for `POST`/`DELETE /api/v1/connections/{id}`) and its plugin.
public struct ConnectionDescription: Codable, Sendable, Equatable {
    public var id: String
    public var plugin: String

    public init(id: String, plugin: String) {
        self.id = id
        self.plugin = plugin
    }
}
