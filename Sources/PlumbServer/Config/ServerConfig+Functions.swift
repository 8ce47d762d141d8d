import Foundation
import PlumbHost
import PlumbKit

extension ServerConfig {
    public struct FunctionSettings: Sendable, Decodable {
        public var reserved: Int?
        /// Topic that receives async events which failed for good (Lambda's on-failure destination).
        public var onFailure: String?
        /// Retries of async events after a function error (0–2, default 2).
        public var maximumRetryAttempts: Int?
        /// Seconds an async event may wait (60–21,600, default 21,600).
        public var maximumEventAge: Double?
        /// Instances, provisioned concurrency, the REPORT line and the autoscaler.
        public var options = FunctionOptions()
        /// Cost-allocation tags (`team: chat`): budgets can filter on one (`filter: {tag: team=chat}`).
        public var tags: [String: String] = [:]
        /// A Lambda handler run by a runtime process (`runtime`, `handler`, `code`, `environment`, `timeout`): the
        /// entry then defines the function rather than tuning a plugin's.
        public var lambda: LambdaSpec?

        /// The keys of a function that is a Lambda handler.
        public struct LambdaSpec: Sendable, Equatable {
            public var runtime: LambdaFunctionDefinition.Runtime
            public var handler: String
            /// The code directory, or a zip file (`.zip`, unzipped at each start); a relative path is taken from the
            /// server's working directory.
            public var code: String
            public var environment: [String: String]
            public var timeout: Int
            /// `METHOD /path` (`/apps/lambda/path`), a schedule expression, or neither.
            public var trigger: Trigger = .event
            public var access: Access = .user
            /// The IAM user whose policies the handler's credentials carry (Lambda's execution role); nil: the
            /// runtime gets no credentials.
            public var role: String?

            /// The function named `name` that these keys define.
            public func definition(name: String, memoryMB: Int) -> LambdaFunctionDefinition {
                var definition = LambdaFunctionDefinition(
                    name: name, runtime: runtime, handler: handler,
                    codeDirectory: URL(fileURLWithPath: code).standardizedFileURL.path)
                definition.environment = environment
                definition.timeout = timeout
                definition.memoryMB = memoryMB
                definition.trigger = trigger
                definition.access = access
                return definition
            }
        }

        enum CodingKeys: String, CodingKey {
            case reserved, provisioned, autoscaling
            case onFailure = "on_failure"
            case maximumRetryAttempts = "maximum_retry_attempts"
            case maximumEventAge = "maximum_event_age"
            case maxConcurrencyPerInstance = "max_concurrency_per_instance"
            case reportLog = "report_log"
            case memoryMB = "memory_mb"
            case tags
            case runtime, handler, code, environment, timeout, route, schedule, access, role
        }

        /// The `autoscaling:` section; every key optional.
        struct Autoscaling: Decodable {
            var enabled: Bool?
            var targetUtilization: Double?
            var stableWindow: Double?
            var panicWindow: Double?
            var panicThreshold: Double?
            var maxScaleUpPer10s: Int?
            var maxScaleDownFactor: Double?
            var scaleToZeroGrace: Double?
            var minInstances: Int?

            enum CodingKeys: String, CodingKey {
                case enabled
                case targetUtilization = "target_utilization"
                case stableWindow = "stable_window"
                case panicWindow = "panic_window"
                case panicThreshold = "panic_threshold"
                case maxScaleUpPer10s = "max_scale_up_per_10s"
                case maxScaleDownFactor = "max_scale_down_factor"
                case scaleToZeroGrace = "scale_to_zero_grace"
                case minInstances = "min_instances"
            }
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            reserved = try c.decodeIfPresent(Int.self, forKey: .reserved)
            onFailure = try c.decodeIfPresent(String.self, forKey: .onFailure)
            maximumRetryAttempts = try c.decodeIfPresent(Int.self, forKey: .maximumRetryAttempts)
            maximumEventAge = try c.decodeIfPresent(Double.self, forKey: .maximumEventAge)
            options.provisioned = try c.decodeIfPresent(Int.self, forKey: .provisioned) ?? 0
            options.maxConcurrencyPerInstance = try c.decodeIfPresent(Int.self, forKey: .maxConcurrencyPerInstance) ?? 1
            if let text = try c.decodeIfPresent(String.self, forKey: .reportLog) {
                guard let mode = FunctionOptions.ReportLog(rawValue: text) else {
                    throw ConfigError(
                        "report_log must be one of \(FunctionOptions.ReportLog.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                options.reportLog = mode
            }
            guard (0...ServerConfig.maxConcurrency).contains(options.provisioned) else {
                throw ConfigError("provisioned must be from 0 to \(ServerConfig.maxConcurrency)")
            }
            if let reserved, !(0...ServerConfig.maxConcurrency).contains(reserved) {
                throw ConfigError("reserved must be from 0 to \(ServerConfig.maxConcurrency)")
            }
            guard (1...1_000).contains(options.maxConcurrencyPerInstance) else {
                throw ConfigError("max_concurrency_per_instance must be from 1 to 1000")
            }
            options.memoryMB = try c.decodeIfPresent(Int.self, forKey: .memoryMB) ?? options.memoryMB
            guard FunctionOptions.memoryRange.contains(options.memoryMB) else {
                throw ConfigError(
                    "memory_mb must be from \(FunctionOptions.memoryRange.lowerBound) to "
                        + "\(FunctionOptions.memoryRange.upperBound) (megabytes, as Lambda's MemorySize)")
            }
            tags = try c.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
            guard tags.count <= 50 else { throw ConfigError("tags: at most 50 tags") }
            for (key, value) in tags {
                let printable = { (text: String) in
                    !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
                }
                guard (1...128).contains(key.count), value.count <= 256, !key.contains("="), printable(key),
                    printable(value)
                else {
                    throw ConfigError(
                        "tags: '\(key.prefix(40))' must be a key of 1 to 128 printable characters without '=' and a value of at most 256"
                    )
                }
            }
            if let text = try c.decodeIfPresent(String.self, forKey: .runtime) {
                guard let runtime = LambdaFunctionDefinition.Runtime(rawValue: text) else {
                    throw ConfigError(
                        "runtime must be one of \(LambdaFunctionDefinition.Runtime.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                guard let handler = try c.decodeIfPresent(String.self, forKey: .handler),
                    let code = try c.decodeIfPresent(String.self, forKey: .code)
                else { throw ConfigError("a function with a runtime needs handler and code") }
                let timeout = try c.decodeIfPresent(Int.self, forKey: .timeout) ?? 3
                guard (1...900).contains(timeout) else { throw ConfigError("timeout must be from 1 to 900 seconds") }
                var spec = LambdaSpec(
                    runtime: runtime, handler: handler, code: code,
                    environment: try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:],
                    timeout: timeout)
                let route = try c.decodeIfPresent(String.self, forKey: .route)
                let schedule = try c.decodeIfPresent(String.self, forKey: .schedule)
                switch (route, schedule) {
                case (let route?, nil):
                    let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let method = PlumbKit.HTTPMethod(rawValue: parts[0].uppercased()) else {
                        throw ConfigError(
                            "route must be 'METHOD /path' (GET, POST, PUT, PATCH or DELETE), not '\(route)'")
                    }
                    spec.trigger = .http(method: method, path: parts[1])
                case (nil, let schedule?):
                    spec.trigger = .schedule(schedule)
                case (nil, nil): break
                default: throw ConfigError("give a route or a schedule, not both")
                }
                if let text = try c.decodeIfPresent(String.self, forKey: .access) {
                    guard let access = Access(rawValue: text), access != .admin else {
                        throw ConfigError("access must be public or user, not '\(text)'")
                    }
                    spec.access = access
                }
                spec.role = try c.decodeIfPresent(String.self, forKey: .role)
                if let role = spec.role, role.isEmpty || role.utf8.count > 64 {
                    throw ConfigError("role must name an IAM user")
                }
                lambda = spec
            } else {
                for key in [CodingKeys.handler, .code, .environment, .timeout, .route, .schedule, .access, .role]
                where c.contains(key) {
                    throw ConfigError("\(key.stringValue) applies to a function with a runtime (python3 or provided)")
                }
            }
            if let a = try c.decodeIfPresent(Autoscaling.self, forKey: .autoscaling) {
                options.autoscaling = a.enabled ?? true
                options.minInstances = a.minInstances
                options.scaling = try Self.scaling(a, over: options.scaling)
            }
        }

        /// The autoscaler's settings: `a`'s values over `defaults`, each checked against its range.
        static func scaling(_ a: Autoscaling, over defaults: AutoscalerSettings) throws -> AutoscalerSettings {
            var s = defaults
            s.targetUtilization = a.targetUtilization ?? s.targetUtilization
            s.stableWindow = a.stableWindow ?? s.stableWindow
            s.panicWindow = a.panicWindow ?? s.panicWindow
            s.panicThreshold = a.panicThreshold ?? s.panicThreshold
            s.maxScaleUpPer10s = a.maxScaleUpPer10s ?? s.maxScaleUpPer10s
            s.maxScaleDownFactor = a.maxScaleDownFactor ?? s.maxScaleDownFactor
            s.scaleToZeroGrace = a.scaleToZeroGrace ?? s.scaleToZeroGrace
            guard (0.01...1).contains(s.targetUtilization) else {
                throw ConfigError("autoscaling.target_utilization must be from 0.01 to 1")
            }
            guard (2...3_600).contains(s.stableWindow), s.panicWindow >= 1, s.panicWindow <= s.stableWindow else {
                throw ConfigError(
                    "autoscaling windows are seconds: stable_window from 2 to 3600, panic_window from 1 to stable_window"
                )
            }
            guard (1...1_000).contains(s.panicThreshold) else {
                throw ConfigError(
                    "autoscaling.panic_threshold must be from 1 to 1000 (a multiple of current capacity)")
            }
            guard (1...ServerConfig.maxConcurrency).contains(s.maxScaleUpPer10s) else {
                throw ConfigError(
                    "autoscaling.max_scale_up_per_10s must be from 1 to \(ServerConfig.maxConcurrency)")
            }
            guard (1...1_000).contains(s.maxScaleDownFactor) else {
                throw ConfigError("autoscaling.max_scale_down_factor must be from 1 to 1000")
            }
            guard (0...86_400).contains(s.scaleToZeroGrace) else {
                throw ConfigError("autoscaling.scale_to_zero_grace must be from 0 to 86400 seconds")
            }
            if let m = a.minInstances, !(0...ServerConfig.maxConcurrency).contains(m) {
                throw ConfigError("autoscaling.min_instances must be from 0 to \(ServerConfig.maxConcurrency)")
            }
            return s
        }

        /// The async retry settings these values make.
        public var asyncSettings: AsyncEventQueue.Settings {
            var settings = AsyncEventQueue.Settings()
            if let n = maximumRetryAttempts { settings.maximumRetryAttempts = n }
            if let age = maximumEventAge { settings.maximumEventAge = age }
            return settings
        }
    }
}
