import Logging
import ServiceLifecycle

/// Applies retention every `retentionInterval`, and, in the embedded store, seals log events into compressed blocks
/// every `sealInterval` (a shared backend keeps its own storage format).
public struct LogMaintenanceService: Service {
    public let store: any LogStoring
    /// Milliseconds after which events are sealed even when they do not fill a block.
    public let sealAfter: Int64
    public let sealInterval: Duration
    public let retentionInterval: Duration
    public let logger: Logger
    /// Whether this process applies retention now (on shared logs, only the cluster's leader does).
    public let appliesRetention: @Sendable () -> Bool

    public init(
        store: any LogStoring, sealAfter: Int64, sealInterval: Duration = .seconds(2), retentionInterval: Duration,
        logger: Logger = Logger(label: "plumb.logs"), appliesRetention: @escaping @Sendable () -> Bool = { true }
    ) {
        self.appliesRetention = appliesRetention
        self.store = store
        self.sealAfter = sealAfter
        self.sealInterval = sealInterval
        self.retentionInterval = retentionInterval
        self.logger = logger
    }

    public func run() async throws {
        let clock = ContinuousClock()
        var lastRetention: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Apart, so that retention (which frees space) still runs when sealing fails (a full disk).
            if let embedded = store as? LogStore {
                seal(embedded)
            }
            if appliesRetention(), lastRetention.map({ clock.now - $0 >= retentionInterval }) ?? true {
                lastRetention = clock.now
                do {
                    let expired = try await store.applyRetention()
                    if expired > 0 { logger.info("log retention", metadata: ["expired": "\(expired)"]) }
                } catch {
                    logger.error("log retention failed: \(error)")
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: sealInterval) }
        }
    }

    func seal(_ store: LogStore) {
        do {
            let report = try store.seal(sealAfter: sealAfter)
            if report.events > 0 {
                logger.debug(
                    "log events sealed",
                    metadata: [
                        "events": "\(report.events)", "blocks": "\(report.blocks)",
                        "compression_ratio": "\(report.compressionRatio)",
                    ])
            }
        } catch {
            logger.error("log sealing failed: \(error)")
        }
    }
}
