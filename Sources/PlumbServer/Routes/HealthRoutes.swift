import Hummingbird
import NIOCore
import PlumbAPI
import PlumbMetrics

/// `/healthz`, `/readyz` and `/metrics` (Prometheus exposition of the server's own swift-metrics), outside `/api/v1`.
struct HealthRoutes {
    let isReady: @Sendable () -> Bool
    /// A shared store that does not answer, named (nil: all answer); from the cluster heartbeat, no query per probe.
    let storeProblem: @Sendable () -> String?
    let factory: PlumbMetricsFactory

    func register(on router: Router<PlumbRequestContext>, metrics: RouterGroup<PlumbRequestContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: ready)
        metrics.get("metrics", use: exposition)
    }

    @Sendable func health(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try .json(HealthStatus(status: "ok"))
    }

    @Sendable func ready(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        guard isReady() else {
            throw APIError(status: 503, code: "NotReady", "starting: stores or plugins not ready yet")
        }
        if let problem = storeProblem() {
            // The detail (where PostgreSQL is, its message) goes to the log, not to an anonymous caller.
            context.logger.warning("not ready: \(problem)")
            throw StoreNotAnswering(message: "a shared store (PostgreSQL) does not answer")
        }
        return try .json(HealthStatus(status: "ready"))
    }

    @Sendable func exposition(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: PrometheusExposition.render(factory))))
    }
}

/// `/readyz` while a shared store (PostgreSQL) does not answer: 503, ask again in a second; a load balancer takes the
/// node out of rotation meanwhile.
struct StoreNotAnswering: PlumbAPI.HTTPResponseError {
    let message: String
    var status: Int { 503 }
    var code: String { "NotReady" }
    var headers: [(name: String, value: String)] { [("Retry-After", "1")] }
}
