import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import PlumbMetrics
import PlumbOpen
import ServiceLifecycle
import Synchronization

/// Scrapes every target of `scrape_configs` on its job's interval and stores what it read, each target in its own
/// task: a target that is down, slow or serving garbage gets `up = 0` and a logged reason, and never delays the
/// others. In a cluster only the leader scrapes (once for all nodes). Each target's last scrape is kept for
/// `GET /api/v1/targets`.
final class ScrapeService: Service, Sendable {
    let jobs: [ScrapeConfig]
    let store: any MetricStoring
    let limits: IngestLimits
    let resolution: StorageResolution
    let leads: @Sendable () -> Bool
    let logger = Logger(label: "plumb.scrape")
    let health = Mutex<[String: TargetHealth]>([:])

    /// A target's state as Prometheus' `/api/v1/targets` shows it.
    struct TargetHealth: Sendable {
        var job: String
        var url: String
        var labels: [String: String]
        var health = "unknown"
        var lastError = ""
        var lastScrape: Date?
        var lastScrapeDuration = 0.0
        var samples = 0
    }

    init(
        jobs: [ScrapeConfig], store: any MetricStoring, limits: IngestLimits, resolution: StorageResolution,
        leads: @escaping @Sendable () -> Bool
    ) {
        self.jobs = jobs
        self.store = store
        self.limits = limits
        self.resolution = resolution
        self.leads = leads
        for job in jobs {
            for target in ScrapeTarget.targets(of: job) {
                health.withLock {
                    $0[target.url + "|" + job.jobName] = TargetHealth(
                        job: job.jobName, url: target.url, labels: target.labels)
                }
            }
        }
    }

    var targets: [TargetHealth] {
        health.withLock { Array($0.values) }.sorted { ($0.job, $0.url) < ($1.job, $1.url) }
    }

    func run() async throws {
        guard !jobs.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        var clients: [HTTPClient] = []
        await withDiscardingTaskGroup { group in
            for job in jobs {
                let client: HTTPClient
                do {
                    client = try Scraper.client(for: job, on: MultiThreadedEventLoopGroup.singleton)
                } catch {
                    logger.error("scrape job \(job.jobName): \(error)")
                    continue
                }
                clients.append(client)
                let scraper = Scraper(client: client, limits: limits, resolution: resolution)
                for target in ScrapeTarget.targets(of: job) {
                    group.addTask { await self.loop(target, scraper: scraper) }
                }
            }
        }
        for client in clients { try? await client.shutdown() }
        // A job whose targets were all dropped leaves nothing to run: wait for the shutdown all the same (a service
        // that returns would stop the server).
        try? await gracefulShutdown()
    }

    func loop(_ target: ScrapeTarget, scraper: Scraper) async {
        let interval = Duration.milliseconds(Int64(target.job.scrapeInterval * 1_000))
        // Spread the targets over the interval (a stable offset per URL), as Prometheus does.
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in target.url.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let offset = Double(hash % 1_000) / 1_000 * min(target.job.scrapeInterval, 10)
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(offset * 1_000))) }
        var wasUp = true
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            if leads() {
                let outcome = await scraper.scrape(target, now: store.clock())
                var stored = outcome.samples.count
                var error = outcome.error
                do {
                    try await store.put(outcome.samples)
                    UsageCounters.metricIngest(samples: outcome.samples.count)
                } catch let failure {
                    stored = 0
                    error = "the samples could not be stored: \(failure)"
                }
                if let error, wasUp || outcome.up {
                    logger.warning("scrape of \(target.url) (job \(target.job.jobName)) failed: \(error)")
                } else if outcome.up, !wasUp {
                    logger.info("scrape of \(target.url) (job \(target.job.jobName)) works again")
                }
                wasUp = outcome.up && error == nil
                health.withLock {
                    $0[target.url + "|" + target.job.jobName]?.health = outcome.up ? "up" : "down"
                    $0[target.url + "|" + target.job.jobName]?.lastError = error ?? ""
                    $0[target.url + "|" + target.job.jobName]?.lastScrape = Date()
                    $0[target.url + "|" + target.job.jobName]?.lastScrapeDuration = outcome.seconds
                    $0[target.url + "|" + target.job.jobName]?.samples = stored
                }
            }
            let next = started + interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(until: next) }
        }
    }
}
