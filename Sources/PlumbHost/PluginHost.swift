import CoreMetrics
import Foundation
import Logging
import Metrics
import PlumbKit
import PlumbStore
import Synchronization

/// Loads plugins and runs every invocation through one instrumented pipeline with admission control.
///
/// Each invocation: admission (`ConcurrencyLimiter`; a refusal is a 429 counted in `Throttles`, not in
/// `Invocations`), then `Invocations`, `ConcurrentExecutions` (per function and account-wide),
/// `Duration` in milliseconds, and `Errors` for unhandled errors and 5xx results.
public final class PluginHost: Sendable {
    public let limiter: ConcurrencyLimiter
    let dataDirectory: String
    let factory: MetricsFactory
    let settings: [String: [String: String]]
    let logger: Logger
    /// Functions by name, and their names in load order.
    private let registry = Mutex<(byName: [String: HostedFunction], order: [String])>(([:], []))
    private let requestCounter = Atomic<UInt64>(0)
    private let bootPrefix = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    let accountConcurrent: Recorder
    let unreservedConcurrent: Recorder

    /// - Parameters:
    ///   - dataDirectory: each plugin gets `plugins/<name>/` below it, with its database `<name>.sqlite`.
    ///   - accountConcurrency: the account-wide concurrency limit (Lambda's default: 1,000).
    ///   - settings: per-plugin settings from the config file.
    public init(
        dataDirectory: String, accountConcurrency: Int = 1_000, factory: MetricsFactory = MetricsSystem.factory,
        settings: [String: [String: String]] = [:], logger: Logger = Logger(label: "plumb.host")
    ) {
        self.dataDirectory = dataDirectory
        self.limiter = ConcurrencyLimiter(accountLimit: accountConcurrency)
        self.factory = factory
        self.settings = settings
        self.logger = logger
        accountConcurrent = Recorder(label: "Plumb/Functions/ConcurrentExecutions", dimensions: [], aggregate: false, factory: factory)
        unreservedConcurrent = Recorder(label: "Plumb/Functions/UnreservedConcurrentExecutions", dimensions: [], aggregate: false, factory: factory)
    }

    /// Migrates the plugin's database, creates an instance (its cold start) and registers its functions.
    public func load<P: Plugin>(_ type: P.Type) async throws {
        let name = P.name
        guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !name.isEmpty else {
            throw FunctionError.badRequest("plugin name '\(name)' must be lowercase letters, digits and '-'", code: "InvalidParameterValueException")
        }
        let directory = dataDirectory + "/plugins/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(
            path: directory + "/" + name + ".sqlite",
            migrations: P.migrations.map { m in Migration("\(name)-\(m.identifier)", apply: m.apply) })
        var pluginLogger = Logger(label: "plumb.plugins.\(name)")
        pluginLogger[metadataKey: "plugin"] = .string(name)
        let context = PluginContext(
            pluginName: name, logger: pluginLogger, database: store.pool, dataDirectory: directory,
            settings: settings[name] ?? [:])
        let started = ContinuousClock.now
        let instance = try await P(context: context)
        logger.info("plugin \(name) initialised in \(ContinuousClock.now - started)")
        for function in P.functions {
            let qualified = "\(name).\(function.name)"
            let handler = function.handler
            let hosted = HostedFunction(
                name: qualified, pluginName: name, trigger: function.trigger, pluginContext: context, factory: factory
            ) { request, ctx in try await handler(instance, request, ctx) }
            let duplicate = registry.withLock { r in
                if r.byName[qualified] != nil { return true }
                r.byName[qualified] = hosted
                r.order.append(qualified)
                return false
            }
            if duplicate { throw FunctionError.badRequest("function \(qualified) is declared twice", code: "InvalidParameterValueException") }
        }
    }

    /// Every function, in load order.
    public var functions: [HostedFunction] {
        registry.withLock { r in r.order.compactMap { r.byName[$0] } }
    }

    public func function(named name: String) -> HostedFunction? {
        registry.withLock { $0.byName[name] }
    }

    /// Sets or clears reserved concurrency of a function.
    public func setReservedConcurrency(_ function: String, _ value: Int?) throws {
        guard self.function(named: function) != nil else { throw FunctionError.notFound("no function named \(function)", code: "ResourceNotFoundException") }
        try limiter.setReserved(function, value)
    }

    /// Runs one synchronous invocation through the pipeline.
    public func invoke(_ function: HostedFunction, _ request: FunctionRequest) async throws -> FunctionResponse {
        guard let admitted = limiter.acquire(function.name) else {
            function.countThrottle()
            throw FunctionError.throttled(function.name, reserved: limiter.reserved(function.name) != nil)
        }
        function.countInvocation()
        record(admitted, function)
        let context = FunctionContext(
            functionName: function.name, requestPrefix: bootPrefix,
            requestNumber: requestCounter.wrappingAdd(1, ordering: .relaxed).newValue, plugin: function.pluginContext)
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            function.recordDuration(nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - start))
            record(limiter.release(function.name), function)
        }
        do {
            let response = try await function.handler(request, context)
            if response.status >= 500 { function.countError() }
            return response
        } catch let error as FunctionError {
            if error.status >= 500 { function.countError() }
            throw error
        } catch {
            function.countError()
            context.logger.error("unhandled error: \(String(describing: error))")
            throw FunctionError(status: 500, code: "ServiceException", message: "the function failed (request \(context.requestID))")
        }
    }

    private func record(_ counts: ConcurrencyLimiter.Counts, _ function: HostedFunction) {
        function.concurrent.record(counts.function)
        accountConcurrent.record(counts.account)
        unreservedConcurrent.record(counts.unreserved)
    }
}
