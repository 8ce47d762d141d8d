import Foundation
import Hummingbird
import PlumbHost
import PlumbKit

/// `GET /api/v1/connections`, `POST /api/v1/connections/{id}` (API Gateway's `@connections` for admins),
/// `DELETE /api/v1/connections/{id}`; and a 426 on a WebSocket endpoint reached without an upgrade.
struct ConnectionRoutes {
    let host: PluginHost
    let gateway: WebSocketGateway

    func register(api: RouterGroup<PlumbRequestContext>, public router: Router<PlumbRequestContext>) {
        api.get("connections") { _, _ in
            struct Endpoint: Encodable {
                let path: String
                let plugin: String
                let routes: [String]
            }
            struct Connection: Encodable {
                let id: String
                let plugin: String
            }
            struct R: Encodable {
                let open: Int
                let perPlugin: [String: Int]
                let endpoints: [Endpoint]
                /// The first 1,000 by id.
                let connections: [Connection]
            }
            let endpoints = gateway.endpoints.values.sorted { $0.path < $1.path }
            var perPlugin: [String: Int] = [:]
            for e in endpoints { perPlugin[e.plugin] = host.connections.count(plugin: e.plugin) }
            return try Response.json(R(
                open: host.connections.count, perPlugin: perPlugin,
                endpoints: endpoints.map { e in
                    Endpoint(path: e.path, plugin: e.plugin, routes: [
                        e.connect.map { _ in "$connect" }, e.disconnect.map { _ in "$disconnect" }, e.fallback.map { _ in "$default" },
                    ].compactMap { $0 } + e.actions.keys.sorted())
                },
                connections: host.connections.list(limit: 1_000).map { Connection(id: $0.id, plugin: $0.plugin) }))
        }
        api.post("connections/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = try await request.collectBody(limit: gateway.settings.maxFrameBytes)
            guard let text = String(validating: body, as: UTF8.self), !text.isEmpty else {
                throw APIError("the body is the text frame to send: non-empty UTF-8")
            }
            switch host.connections.post(text, to: id) {
            case .queued: return try Response.json(["status": "queued"])
            case .gone: throw APIError(status: 410, code: "GoneException", "connection '\(id)' is not open")
            case .overflowed: throw APIError(status: 410, code: "GoneException", "connection '\(id)' was closed as a slow consumer")
            }
        }
        api.delete("connections/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard host.connections.contains(id) else {
                throw APIError(status: 410, code: "GoneException", "connection '\(id)' is not open")
            }
            host.connections.close(id, code: 1000, reason: "closed by an administrator")
            return Response(status: .noContent)
        }
        for path in gateway.endpoints.keys {
            router.get(RouterPath(path)) { _, _ -> Response in
                throw APIError(status: 426, code: "UpgradeRequired", "this is a WebSocket endpoint: connect with a WebSocket client")
            }
        }
    }
}
