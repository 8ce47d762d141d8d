import Foundation
import Logging
import ServiceLifecycle

/// Reports what the swift-metrics backend recorded into the metric store every `interval` (1 s by
/// default), through the same ingest path as every other datum, and once more on shutdown.
public struct MetricsReporter: Service {
    public let factory: PlumbMetricsFactory
    public let store: any MetricStoring
    let logger = Logger(label: "plumb.metrics")
    public var interval: Duration
    let validator = DatumValidator(limits: IngestLimits())

    public init(factory: PlumbMetricsFactory, store: any MetricStoring, interval: Duration = .seconds(1)) {
        self.factory = factory
        self.store = store
        self.interval = interval
    }

    /// Reports once now; returns how many samples were stored.
    @discardableResult
    public func report() async throws -> Int {
        let samples = factory.takeSamples(timestamp: store.clock(), validator: validator)
        try await store.put(samples)
        return samples.count
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do {
                try await report()
            } catch {
                logger.error("reporting internal metrics failed: \(error)")
            }
        }
    }
}
