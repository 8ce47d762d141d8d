import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import PlumbKit
import PlumbMetrics
import PlumbPluginTesting
import PlumbServer
import PlumbTesting
import Synchronization

/// Runs `body` against an in-process Plumb server on a fresh data directory: router-level with no socket, or on a
/// loopback port (`testing: .live`, `client.port`) for a test that drives it with the `plumb` binary.
public func withTestServer(
    plugins: [any Plugin.Type] = [ProbePlugin.self],
    clock: TestClock = TestClock(Int64(Date().timeIntervalSince1970)),
    testing: TestingSetup = .router,
    configure: (inout ServerConfig) -> Void = { _ in },
    _ body: @Sendable (PlumbServer, any TestClientProtocol) async throws -> Void
) async throws {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    var config = ServerConfig()
    config.data = directory.path
    config.plugins["sentiment"] = ["lexicon_dir": Checkout.root + "/share/plumb/vader"]
    configure(&config)
    let server = try await PlumbServer.open(
        config: config, plugins: plugins, factory: PlumbMetricsFactory(), clock: clock.closure)
    let app = Application(router: server.makeRouter())
    try await app.test(testing) { client in
        try await body(server, client)
    }
}

extension TestClientProtocol {
    /// Sends a request with the server's admin token.
    public func admin(
        _ uri: String, method: HTTPRequest.Method = .get, body: String? = nil, server: PlumbServer
    ) async throws -> TestResponse {
        try await execute(
            uri: uri, method: method, headers: [.authorization: "Bearer \(server.token)"],
            body: body.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    public var text: String { String(buffer: body) }

    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }
}
