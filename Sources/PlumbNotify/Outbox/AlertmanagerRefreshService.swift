import Foundation
import Logging
import ServiceLifecycle

/// Keeps the Alertmanagers current (`Outbox.refreshAlertmanagerAlerts`): firing alerts re-sent every resend
/// interval while their alarm stays in ALARM, and alerts whose alarm left ALARM unannounced sent resolved. Looks
/// every 10 s (or every interval, if shorter), so an alarm that leaves ALARM silently is resolved within that.
public struct AlertmanagerRefreshService: Service {
    public let outbox: any NotificationStoring
    /// Seconds between sends of a firing alert.
    public let interval: Double
    /// The names of the alarms in ALARM now.
    public let firingAlarms: @Sendable () -> Set<String>
    /// Whether this node keeps them: in a cluster only the leader does, whose alarm states are the newest (a
    /// follower's, up to a refresh old, would end an alert the leader has just opened).
    public let leads: @Sendable () -> Bool
    public let logger: Logger

    public init(
        outbox: any NotificationStoring, interval: Double, logger: Logger = Logger(label: "plumb.notify"),
        leads: @escaping @Sendable () -> Bool = { true }, firingAlarms: @escaping @Sendable () -> Set<String>
    ) {
        self.leads = leads
        self.outbox = outbox
        self.interval = interval
        self.logger = logger
        self.firingAlarms = firingAlarms
    }

    public func run() async throws {
        let pause = Duration.milliseconds(Int64(min(interval, 10) * 1_000))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return
            }
            guard leads() else { continue }
            do {
                try await outbox.refreshAlertmanagerAlerts(
                    firing: firingAlarms(), interval: interval, now: Date().timeIntervalSince1970)
            } catch {
                logger.error("cannot refresh the Alertmanager alerts: \(error)")
            }
        }
    }
}
