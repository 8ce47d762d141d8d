import Foundation
import Logging
import ServiceLifecycle

/// Samples every function's concurrency each second and lets the autoscaler decide every 2 s (Knative's tick).
///
/// Each decision that changes a pool is a scaling activity: kept for `GET /api/v1/functions/{name}/scaling` and
/// written to the log group `/plumb/scaling` (logger label `plumb.scaling`).
public struct AutoscalerService: Service {
    public let host: PluginHost
    public let logger: Logger

    public init(host: PluginHost, logger: Logger = Logger(label: "plumb.scaling")) {
        self.host = host
        self.logger = logger
    }

    public func run() async throws {
        var tick = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            tick += 1
            for (function, activity) in host.scalingStep(now: Date().timeIntervalSince1970, decide: tick % 2 == 0) {
                Self.log(activity, of: function, to: logger)
            }
        }
    }

    static func log(_ a: ScalingActivity, of function: String, to logger: Logger) {
        logger.info(
            "\(function): \(a.from) → \(a.to) instances (\(a.reason))",
            metadata: [
                "function": "\(function)", "from": "\(a.from)", "to": "\(a.to)", "reason": "\(a.reason)",
                "stable_concurrency": "\(a.stableDemand)", "panic_concurrency": "\(a.panicDemand)",
                "panicking": "\(a.panicking)",
            ])
    }
}
