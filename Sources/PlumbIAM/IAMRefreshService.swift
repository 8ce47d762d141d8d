import Logging
import ServiceLifecycle

/// On a node whose IAM store is shared, looks every `interval` whether another node changed users, groups, policies
/// or tokens, and drops the principals this node cached if so (`IAM.refresh`).
public struct IAMRefreshService: Service {
    public let iam: IAM
    public let interval: Duration
    public let logger: Logger

    public init(iam: IAM, interval: Duration = .seconds(1), logger: Logger = Logger(label: "plumb.iam")) {
        self.iam = iam
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await iam.refresh()
                if failing { logger.info("shared IAM store readable again") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read the shared IAM store: \(error)") }
                failing = true
            }
        }
    }
}
