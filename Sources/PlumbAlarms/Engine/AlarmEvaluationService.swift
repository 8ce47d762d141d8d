import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Runs the engine's ticks on 10-second wall-clock boundaries and prunes history past 14 days (and silences expired
/// five days ago) once an hour.
///
/// Records `Plumb/Alarms/EvaluationDuration` (ms per tick), `Plumb/Alarms/AlarmsEvaluated` and, per state,
/// `Plumb/Alarms/Alarms` with dimension `State`.
public struct AlarmEvaluationService: Service {
    public let engine: AlarmEngine
    public let clock: @Sendable () -> Int64
    public let logger: Logger
    /// Whether this process evaluates now: in a cluster only the leader does, so each transition notifies once.
    public let leads: @Sendable () -> Bool
    /// Whether the store is shared with other nodes: then each tick first takes in what they wrote, and a node that
    /// has just become the leader reads everything again.
    public let sharedStore: Bool

    public init(
        engine: AlarmEngine, clock: @escaping @Sendable () -> Int64, logger: Logger = Logger(label: "plumb.alarms"),
        sharedStore: Bool = false, leads: @escaping @Sendable () -> Bool = { true }
    ) {
        self.leads = leads
        self.sharedStore = sharedStore
        self.engine = engine
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        var lastPrune: Int64 = 0
        var led = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let nowMillis = Int64(Date().timeIntervalSince1970 * 1_000)
            let nextBoundary = (nowMillis / 10_000 + 1) * 10_000
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(nextBoundary - nowMillis))
                }
            } catch {
                return
            }
            guard leads() else {
                led = false
                continue
            }
            if sharedStore {
                do {
                    if try await engine.refresh(force: !led), !led {
                        logger.info("leading: alarm states read again from the shared store")
                    }
                } catch {
                    // Evaluating from states that may be stale would notify twice what another node already did.
                    logger.error("alarm tick skipped: cannot read the shared alarm store: \(error)")
                    continue
                }
            }
            led = true
            let now = clock()
            let started = ContinuousClock.now
            let report = await engine.tick(now: now, fence: leads)
            Metrics.Timer(label: "Plumb/Alarms/EvaluationDuration").recordNanoseconds(
                (ContinuousClock.now - started).nanoseconds)
            Counter(label: "Plumb/Alarms/AlarmsEvaluated").increment(by: report.evaluated)
            for (state, count) in engine.stateCounts() {
                Gauge(label: "Plumb/Alarms/Alarms", dimensions: [("State", state.rawValue)]).record(count)
            }
            if !report.transitions.isEmpty || report.failed > 0 {
                logger.info(
                    "alarm tick",
                    metadata: [
                        "evaluated": "\(report.evaluated)", "failed": "\(report.failed)",
                        "transitions": "\(report.transitions.count)", "duration": "\(ContinuousClock.now - started)",
                    ])
            }
            if now - lastPrune >= 3_600, let store = engine.store {
                lastPrune = now
                do { try await store.pruneHistory(now: now) } catch {
                    logger.error("alarm history prune failed: \(error)")
                }
                do { try await engine.silences.prune(now: now) } catch {
                    logger.error("silence prune failed: \(error)")
                }
            }
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
