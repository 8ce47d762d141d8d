import Foundation
import Hummingbird
import Logging
import PlumbHost
import PlumbKit
import PlumbMetrics
import ServiceLifecycle
import Synchronization

/// The composition root: opens the stores, loads the plugins, builds the router and runs every long-running
/// part as a `Service` in one `ServiceGroup`.
///
/// On SIGTERM/SIGINT the group shuts down in reverse order: the HTTP server stops accepting and drains
/// in-flight requests, the metrics reporter reports once more, and the store flushes its head.
public final class PlumbServer: Sendable {
    public let config: ServerConfig
    public let store: MetricStore
    public let host: PluginHost
    public let factory: PlumbMetricsFactory
    public let token: String
    public let limits: IngestLimits
    let logger: Logger
    let ready = Atomic<Bool>(false)

    init(config: ServerConfig, store: MetricStore, host: PluginHost, factory: PlumbMetricsFactory, token: String, logger: Logger) {
        self.config = config
        self.store = store
        self.host = host
        self.factory = factory
        self.token = token
        self.limits = IngestLimits()
        self.logger = logger
    }

    /// Opens the data directory, the metric store and the admin token, loads `plugins` and applies the
    /// configured reserved concurrency.
    public static func open(
        config: ServerConfig, plugins: [any Plugin.Type], factory: PlumbMetricsFactory,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        logger: Logger = Logger(label: "plumb.server")
    ) async throws -> PlumbServer {
        let directory = config.dataDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let token = try AdminToken.load(dataDirectory: directory, environmentVariable: config.adminTokenEnv)
        let store = try MetricStore(directory: directory, durability: config.durability, clock: clock)
        let host = PluginHost(
            dataDirectory: directory, accountConcurrency: config.accountConcurrency, factory: factory,
            settings: config.plugins)
        for plugin in plugins {
            try await host.load(plugin)
        }
        for (name, settings) in config.functions.sorted(by: { $0.key < $1.key }) {
            guard host.function(named: name) != nil else {
                throw ConfigError("functions.\(name): no such function (known: \(host.functions.map(\.name).joined(separator: ", ")))")
            }
            if let reserved = settings.reserved {
                do { try host.setReservedConcurrency(name, reserved) } catch let error as FunctionError {
                    throw ConfigError("functions.\(name).reserved: \(error.message)")
                }
            }
        }
        return PlumbServer(config: config, store: store, host: host, factory: factory, token: token, logger: logger)
    }

    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// The whole HTTP surface. `extraRoutes` lets the executable add routes (the benchmark's bare route).
    public func makeRouter(extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in }) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.get("healthz") { _, _ in try Response.json(["status": "ok"]) }
        router.get("readyz") { _, _ -> Response in
            guard self.isReady else {
                throw APIError(status: 503, code: "NotReady", "starting: stores or plugins not ready yet")
            }
            return try Response.json(["status": "ready"])
        }
        let metricsGroup = config.metricsRequireToken ? router.group().add(middleware: AdminAuthMiddleware(token: token)) : router.group()
        metricsGroup.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: PrometheusExposition.render(self.factory))))
        }
        let api = router.group("api/v1").add(middleware: AdminAuthMiddleware(token: token))
        let write = router.group().add(middleware: AdminAuthMiddleware(token: token))
        MetricsRoutes(
            store: store, limits: limits,
            lineProtocolResolution: StorageResolution(rawValue: config.metrics.lineProtocolResolution) ?? .standard
        ).register(api: api, write: write)
        FunctionRoutes(host: host).register(api: api)
        PluginRoutes(host: host).register(on: router)
        extraRoutes(router)
        return router
    }

    /// Serves until SIGTERM/SIGINT (or cancellation). `onReady` runs once the socket listens.
    public func run(
        extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in },
        onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let (hostName, port) = try config.listenAddress()
        let app = Application(
            router: makeRouter(extraRoutes: extraRoutes),
            configuration: .init(address: .hostname(hostName, port: port), serverName: "plumb"),
            onServerRunning: { channel in
                self.ready.store(true, ordering: .relaxed)
                await onReady(channel.localAddress?.port ?? port)
            },
            logger: logger)
        let services: [any Service] = [
            MetricStoreService(store: store, flushInterval: .milliseconds(Int64(config.metrics.flushInterval * 1_000))),
            MetricsReporter(factory: factory, store: store, interval: .milliseconds(Int64(config.metrics.reportInterval * 1_000))),
            app,
        ]
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
