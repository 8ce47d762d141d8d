import Foundation
import Hummingbird

/// `GET /api/v1/targets`: the scrape targets of `scrape_configs` and their last scrape, in Prometheus' own shape
/// (`{"status":"success","data":{"activeTargets":[…],"droppedTargets":[]}}`), so Prometheus' tooling reads it.
struct ScrapeRoutes {
    let service: ScrapeService

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("targets", use: targets)
    }

    struct TargetsResponse: Encodable {
        var status = "success"
        var data: Targets

        struct Targets: Encodable {
            var activeTargets: [Target]
            var droppedTargets: [Target] = []
        }

        struct Target: Encodable {
            var labels: [String: String]
            var scrapePool: String
            var scrapeUrl: String
            var health: String
            var lastError: String
            var lastScrape: String
            var lastScrapeDuration: Double
            var lastSamples: Int
        }
    }

    @Sendable func targets(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let active = service.targets.map { t in
            TargetsResponse.Target(
                labels: t.labels, scrapePool: t.job, scrapeUrl: t.url, health: t.health, lastError: t.lastError,
                lastScrape: t.lastScrape.map { formatter.string(from: $0) } ?? "0001-01-01T00:00:00Z",
                lastScrapeDuration: t.lastScrapeDuration, lastSamples: t.samples)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(TargetsResponse(data: .init(activeTargets: active)))
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
