import Foundation
import PlumbServer
import PlumbTesting
import Testing
import Yams

/// `docs/openapi.yaml` is the contract: it and the router agree route for route (the plugins' `/apps/…` routes
/// aside), and answers of a real server validate against its schemas.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// Routes the document does not describe yet, while the wire model moves into PlumbAPI area by area. Each area
    /// removes its routes as it documents them; the list must end empty.
    static let pending: Set<String> = [
        "GET /api/v1/metrics", "POST /api/v1/metrics", "POST /api/v1/metrics/query", "GET /api/v1/metrics/statistics",
        "GET /api/v1/alarms", "POST /api/v1/alarms/reload", "DELETE /api/v1/alarms/{name}", "GET /api/v1/alarms/{name}",
        "PUT /api/v1/alarms/{name}", "GET /api/v1/alarms/{name}/history", "POST /api/v1/alarms/{name}/state", "GET /api/v1/silences",
        "POST /api/v1/silences", "DELETE /api/v1/silences/{id}", "GET /api/v1/metric-filters", "DELETE /api/v1/metric-filters/{name}",
        "PUT /api/v1/metric-filters/{name}", "GET /api/v1/logs", "GET /api/v1/logs/{group}", "GET /api/v1/logs/{group}/streams",
        "GET /api/v1/logs/{group}/tail", "PUT /api/v1/logs/{group}/retention", "POST /api/v1/logs/{group}/{stream}", "POST /write",
        "GET /alarms/{name}",
    ]

    /// "METHOD /path" of every operation in the document.
    static func documented() throws -> Set<String> {
        let text = try String(contentsOfFile: Checkout.root + "/docs/openapi.yaml", encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: Any])
        var out: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                out.insert("\(method.uppercased()) \(path)")
            }
        }
        return out
    }

    @Test("the document and the router agree route for route (plugins' /apps routes aside)")
    func routesAgree() async throws {
        let documented = try Self.documented()
        try await withTestServer(plugins: RouteAccessTests.shipped, configure: { $0.plugins["accounts"] = ["scrypt_n": "1024"] }) { server, _ in
            let routed = Set(server.makeRouter().routes.map { "\($0.method.rawValue) \($0.path.description)" }.filter { !$0.contains(" /apps/") })
            let undocumented = routed.subtracting(documented).subtracting(Self.pending)
            let unrouted = documented.subtracting(routed)
            let stale = Self.pending.intersection(documented).union(Self.pending.subtracting(routed))
            #expect(undocumented.isEmpty, "routes the document lacks: \(undocumented.sorted())")
            #expect(unrouted.isEmpty, "documented routes the router lacks: \(unrouted.sorted())")
            #expect(stale.isEmpty, "remove from OpenAPITests.pending (documented, or gone): \(stale.sorted())")
            print("openapi: \(documented.count) operations documented, \(Self.pending.count) pending, \(routed.count) routes")
        }
    }
}
