import Logging
import ServiceLifecycle

/// Runs the store's background work: flushes the head every `flushInterval` (sooner once it holds `flushSamples`
/// samples), rolls up aged data every `rollupInterval`, and flushes once more on graceful shutdown.
///
/// While it runs, at most about `headLimit` samples wait in memory (the head and the flush under way together): a
/// write that would go beyond waits for a flush to make room, so a burst of ingest faster than the disk takes is
/// slowed to the disk's pace instead of growing memory without bound.
public struct MetricStoreService: Service {
    public let store: MetricStore
    public var flushInterval: Duration
    public var rollupInterval: Duration
    public var flushSamples: Int
    public var headLimit: Int
    /// How long a write waits for room before it is refused with 503 and `Retry-After`.
    public var admissionTimeout: Duration

    public init(
        store: MetricStore, flushInterval: Duration = .seconds(5), rollupInterval: Duration = .seconds(60),
        flushSamples: Int = 2_000_000, headLimit: Int = 4_000_000, admissionTimeout: Duration = .seconds(30)
    ) {
        self.store = store
        self.flushInterval = flushInterval
        self.rollupInterval = rollupInterval
        self.flushSamples = flushSamples
        self.headLimit = headLimit
        self.admissionTimeout = admissionTimeout
    }

    public func run() async throws {
        store.admission.withLock { $0 = .init(limit: headLimit, timeout: admissionTimeout) }
        defer { store.admission.withLock { $0 = nil } }
        var sinceRollup = Duration.zero
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            try? await cancelWhenGracefulShutdown {
                while ContinuousClock.now - started < flushInterval && store.headSampleCount < flushSamples {
                    // Closer looks once the head fills (a burst: writes may soon wait for this flush), few when idle.
                    let filling = store.headSampleCount >= flushSamples / 4
                    try await Task.sleep(for: .milliseconds(filling ? 10 : 100))
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
