import Logging
import ServiceLifecycle

/// Runs the store's background work: flushes the head every `flushInterval` (sooner once it holds `flushSamples`
/// samples, so a burst of ingest never holds more than about that many in memory), rolls up aged data every
/// `rollupInterval`, and flushes once more on graceful shutdown.
public struct MetricStoreService: Service {
    public let store: MetricStore
    public var flushInterval: Duration
    public var rollupInterval: Duration
    public var flushSamples: Int

    public init(
        store: MetricStore, flushInterval: Duration = .seconds(5), rollupInterval: Duration = .seconds(60),
        flushSamples: Int = 2_000_000
    ) {
        self.store = store
        self.flushInterval = flushInterval
        self.rollupInterval = rollupInterval
        self.flushSamples = flushSamples
    }

    public func run() async throws {
        var sinceRollup = Duration.zero
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            try? await cancelWhenGracefulShutdown {
                while ContinuousClock.now - started < flushInterval && store.headSampleCount < flushSamples {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            do {
                sinceRollup += ContinuousClock.now - started
                if sinceRollup >= rollupInterval {
                    sinceRollup = .zero
                    let report = try await store.rollup()
                    if report.rolledUp > 0 || report.expired > 0 {
                        store.logger.info("rollup: \(report.rolledUp) buckets rolled up, \(report.expired) expired")
                    }
                } else if !store.headIsEmpty {
                    try await store.flush()
                }
            } catch {
                store.logger.error("metrics flush failed (data stays in the journal): \(error)")
            }
        }
        try await store.flush()
        store.checkpoint()
    }
}
