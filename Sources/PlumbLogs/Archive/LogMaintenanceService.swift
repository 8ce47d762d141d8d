import Logging
import ServiceLifecycle

/// Applies retention and moves old events into compressed segments, once per `interval`.
public struct LogMaintenanceService: Service {
    public let store: LogStore
    /// Milliseconds after which events are archived.
    public let archiveAfter: Int64
    public let interval: Duration
    public let logger: Logger

    public init(store: LogStore, archiveAfter: Int64, interval: Duration, logger: Logger = Logger(label: "plumb.logs"))
    {
        self.store = store
        self.archiveAfter = archiveAfter
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let report = try store.archive(olderThan: archiveAfter)
                if report.events > 0 || report.expiredEvents > 0 {
                    logger.info(
                        "log maintenance",
                        metadata: [
                            "archived": "\(report.events)", "segments": "\(report.segments)",
                            "expired": "\(report.expiredEvents)",
                            "compression_ratio": "\(report.compressionRatio)",
                        ])
                }
            } catch {
                logger.error("log maintenance failed: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
