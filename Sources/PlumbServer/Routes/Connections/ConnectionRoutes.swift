import Foundation
import Hummingbird
import PlumbAPI
import PlumbHost
import PlumbKit

/// `GET /api/v1/connections`, `POST /api/v1/connections/{id}` (API Gateway's `@connections` for admins),
/// `DELETE /api/v1/connections/{id}`; and a 426 on a WebSocket endpoint reached without an upgrade.
struct ConnectionRoutes: Sendable {
    let host: PluginHost
    let gateway: WebSocketGateway

    func register(api: RouterGroup<PlumbRequestContext>, public router: Router<PlumbRequestContext>) {
        api.get("connections", use: list)
        api.post("connections/:id", use: post)
        api.delete("connections/:id", use: close)
        for path in gateway.endpoints.keys {
            router.get(RouterPath(path), use: upgradeRequired)
        }
    }

    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let endpoints = gateway.endpoints.values.sorted { $0.path < $1.path }
        var perPlugin: [String: Int] = [:]
        for e in endpoints { perPlugin[e.plugin] = host.connections.count(plugin: e.plugin) }
        return try Response.json(
            ConnectionList(
                open: host.connections.count, perPlugin: perPlugin,
                endpoints: endpoints.map { e in
                    WebSocketEndpoint(
                        path: e.path, plugin: e.plugin,
                        routes: [
                            e.connect.map { _ in "$connect" }, e.disconnect.map { _ in "$disconnect" },
                            e.fallback.map { _ in "$default" },
                        ].compactMap { $0 } + e.actions.keys.sorted())
                },
                connections: host.connections.list(limit: 1_000).map {
                    ConnectionDescription(id: $0.id, plugin: $0.plugin)
                }))
    }

    /// The body is free-form: the text frame to send, non-empty UTF-8, passed through as it is.
    @Sendable func post(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let body = try await request.collectBody(limit: gateway.settings.maxFrameBytes)
        guard let text = String(validating: body, as: UTF8.self), !text.isEmpty else {
            throw APIError("the body is the text frame to send: non-empty UTF-8")
        }
        switch host.connections.post(text, to: id) {
        case .queued: return try Response.json(ConnectionPostResult())
        case .gone: throw APIError(status: 410, code: "GoneException", "connection '\(id)' is not open")
        case .overflowed:
            throw APIError(status: 410, code: "GoneException", "connection '\(id)' was closed as a slow consumer")
        }
    }

    @Sendable func close(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard host.connections.contains(id) else {
            throw APIError(status: 410, code: "GoneException", "connection '\(id)' is not open")
        }
        host.connections.close(id, code: 1000, reason: "closed by an administrator")
        return Response(status: .noContent)
    }

    @Sendable func upgradeRequired(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        throw APIError(
            status: 426, code: "UpgradeRequired", "this is a WebSocket endpoint: connect with a WebSocket client")
    }
}
