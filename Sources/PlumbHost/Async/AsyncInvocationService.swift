import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Runs due async events every 200 ms (wall clock); pending events survive restarts in the queue.
public struct AsyncInvocationService: Service {
    public let dispatcher: AsyncDispatcher
    public let logger: Logger

    public init(dispatcher: AsyncDispatcher, logger: Logger = Logger(label: "plumb.async")) {
        self.dispatcher = dispatcher
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let ran = try await dispatcher.runDue(now: Date().timeIntervalSince1970)
                if ran > 0 { continue }
            } catch {
                logger.error("async queue: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
        }
    }
}
