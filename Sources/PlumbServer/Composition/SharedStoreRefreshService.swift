import Logging
import ServiceLifecycle

/// On a node whose store is shared with other nodes, takes in every `interval` what they wrote (`refresh`): the
/// alarm engine's definitions and states (every 2 s), IAM's cached principals (every second). Says once when the
/// store cannot be read, and once when it can again.
struct SharedStoreRefreshService: Service {
    /// What is refreshed, for the log ("alarm store").
    let store: String
    let interval: Duration
    let refresh: @Sendable () async throws -> Void
    var logger = Logger(label: "plumb.cluster")

    func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await refresh()
                if failing { logger.info("shared \(store) readable again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read the shared \(store): \(error)") }
                failing = true
            }
        }
    }
}
