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
    /// Open WebSocket connections, for `@connections` posts.
    public let connections = ConnectionRegistry()
    /// Topics, mail, the audit trail and the secrets key for plugins; nil: `StandalonePlatform` with the key of the
    /// data directory, made when the first plugin loads.
    let platform: (any PlatformServices)?
    /// The topics the loaded plugins publish to (`Plugin.topics`), for the server to create.
    private let declaredTopics = Mutex<[String]>([])
    public var topicsToCreate: [String] { declaredTopics.withLock { $0 } }
    /// Vouches for end users' access tokens (`.user` functions): the first loaded `IdentityProvider`'s verifier.
    private let endUsers = Mutex<(any EndUserVerifying)?>(nil)
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

    let functionOptions: [String: FunctionOptions]
    /// The server's public address, for the plugins' absolute URLs.
    let publicURL: String
    /// Sync policy of the plugins' databases (the server's `durability`).
    let durability: Durability
    /// Builds plugin loggers from their labels (`plumb.plugins.<name>`); tests capture them.
    let makeLogger: @Sendable (String) -> Logger

    /// - Parameters:
    ///   - dataDirectory: each plugin gets `plugins/<name>/` below it, with its database `<name>.sqlite`.
    ///   - accountConcurrency: the account-wide concurrency limit (Lambda's default: 1,000).
    ///   - settings: per-plugin settings from the config file.
    ///   - functionOptions: per-function instance and scaling options by `<plugin>.<function>`.
    ///   - platform: what the server does for plugins (topics, mail, audit, secrets).
    public init(
        dataDirectory: String, accountConcurrency: Int = 1_000, factory: MetricsFactory = MetricsSystem.factory,
        settings: [String: [String: String]] = [:], functionOptions: [String: FunctionOptions] = [:],
        durability: Durability = .full,
        publicURL: String = "http://127.0.0.1:9400",
        platform: (any PlatformServices)? = nil,
        logger: Logger = Logger(label: "plumb.host"),
        makeLogger: @escaping @Sendable (String) -> Logger = { Logger(label: $0) }
    ) {
        self.platform = platform
        self.durability = durability
        self.publicURL = publicURL
        self.makeLogger = makeLogger
        self.dataDirectory = dataDirectory
        self.limiter = ConcurrencyLimiter(accountLimit: accountConcurrency)
        self.factory = factory
        self.settings = settings
        self.functionOptions = functionOptions
        self.logger = logger
        accountConcurrent = Recorder(
            label: "Plumb/Functions/ConcurrentExecutions", dimensions: [], aggregate: false, factory: factory)
        unreservedConcurrent = Recorder(
            label: "Plumb/Functions/UnreservedConcurrentExecutions", dimensions: [], aggregate: false, factory: factory)
    }

    /// Migrates the plugin's database and registers its functions, each with its own pool of instances.
    ///
    /// Every function starts with its provisioned instances, or one warm instance when it has none, so a plugin
    /// whose initialiser fails stops the server at start rather than at its first request; the autoscaler
    /// reclaims an unused instance after its scale-to-zero grace.
    public func load<P: Plugin>(_ type: P.Type) async throws {
        let name = P.name
        guard name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), !name.isEmpty else {
            throw FunctionError.badRequest(
                "plugin name '\(name)' must be lowercase letters, digits and '-'",
                code: "InvalidParameterValueException")
        }
        let directory = dataDirectory + "/plugins/" + name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(
            path: directory + "/" + name + ".sqlite", durability: durability,
            migrations: P.migrations.map { m in Migration("\(name)-\(m.identifier)", apply: m.apply) })
        var pluginLogger = makeLogger("plumb.plugins.\(name)")
        pluginLogger[metadataKey: "plugin"] = .string(name)
        let context = PluginContext(
            pluginName: name, logger: pluginLogger, database: store.pool, dataDirectory: directory,
            settings: settings[name] ?? [:],
            host: HostBridge(
                host: self, plugin: name, key: try HostBridge.signingKey(directory: directory),
                platform: try platform ?? StandalonePlatform(secrets: SecretBox.load(dataDirectory: dataDirectory))),
            blobs: MeteredBlobStore(try BlobStore(root: directory + "/blobs"), plugin: name, factory: factory),
            publicURL: publicURL)
        let started = ContinuousClock.now
        try await P.prepare(context: context)
        let topics = P.topics(context: context)
        declaredTopics.withLock { $0 += topics }
        if let provider = P.self as? any IdentityProvider.Type, endUsers.withLock({ $0 == nil }) {
            let verifier = try await provider.endUserVerifier(context: context)
            endUsers.withLock { $0 = verifier }
        }
        for function in P.functions {
            let qualified = "\(name).\(function.name)"
            let handler = function.handler
            let options = functionOptions[qualified] ?? FunctionOptions()
            let hosted = HostedFunction(
                name: qualified, pluginName: name, trigger: function.trigger, access: function.access,
                streaming: function.streaming, options: options,
                pluginContext: context,
                factory: factory, logger: logger
            ) {
                let instance = try await P(context: context)
                return .init(handler: { request, ctx in try await handler(instance, request, ctx) })
            }
            try register(hosted)
            updateCaps(hosted)
            try await setProvisionedConcurrency(qualified, options.provisioned)
            try await hosted.pool.prewarm(1)
        }
        logger.info("plugin \(name) initialised in \(ContinuousClock.now - started) (\(P.functions.count) functions)")
    }

    /// The end user holding `accessToken`, nil when no identity plugin is loaded or it does not vouch for the token.
    /// Adds a function to the registry, or throws when its name is taken.
    func register(_ hosted: HostedFunction) throws {
        let duplicate = registry.withLock { r in
            if r.byName[hosted.name] != nil { return true }
            r.byName[hosted.name] = hosted
            r.order.append(hosted.name)
            return false
        }
        if duplicate {
            throw FunctionError.badRequest(
                "function \(hosted.name) is declared twice", code: "InvalidParameterValueException")
        }
    }

    /// Puts `hosted` in the place of the function of the same name (its instances retired: running invocations end
    /// on them, the next ones start on the new definition); returns the one replaced.
    func replace(_ hosted: HostedFunction) -> HostedFunction? {
        let old = registry.withLock { r -> HostedFunction? in
            let old = r.byName[hosted.name]
            if old == nil { r.order.append(hosted.name) }
            r.byName[hosted.name] = hosted
            return old
        }
        old?.pool.retireAll()
        return old
    }

    /// Removes a function: no new invocation reaches it, its idle instances stop now and running ones when they
    /// end; its reserved concurrency is released. Returns it, or nil when there is none by that name.
    @discardableResult
    public func unregister(_ name: String) -> HostedFunction? {
        let removed = registry.withLock { r -> HostedFunction? in
            guard let old = r.byName.removeValue(forKey: name) else { return nil }
            r.order.removeAll { $0 == name }
            return old
        }
        guard let removed else { return nil }
        removed.pool.retireAll()
        try? limiter.setReserved(name, nil)
        for f in functions { updateCaps(f) }
        return removed
    }

    public func endUser(accessToken: String) -> EndUser? {
        endUsers.withLock { $0 }?.endUser(accessToken: accessToken)
    }

    /// Every function, in load order.
    public var functions: [HostedFunction] {
        registry.withLock { r in r.order.compactMap { r.byName[$0] } }
    }

    public func function(named name: String) -> HostedFunction? {
        registry.withLock { $0.byName[name] }
    }

    /// Sets or clears reserved concurrency of a function. Lowering it below the provisioned concurrency is refused.
    public func setReservedConcurrency(_ function: String, _ value: Int?) throws {
        guard let hosted = self.function(named: function) else {
            throw FunctionError.notFound("no function named \(function)", code: "ResourceNotFoundException")
        }
        if let value, value < hosted.scaling.provisioned {
            throw FunctionError.badRequest(
                "reserved concurrency \(value) is below the provisioned concurrency \(hosted.scaling.provisioned) of \(function); lower that first",
                code: "InvalidParameterValueException")
        }
        try limiter.setReserved(function, value)
        for f in functions { updateCaps(f) }
    }

    /// Sets the provisioned concurrency of a function (0 clears it): that many instances are initialised now and
    /// kept warm. It must fit the function's reserved concurrency, or the unreserved pool.
    public func setProvisionedConcurrency(_ function: String, _ value: Int) async throws {
        guard let hosted = self.function(named: function) else {
            throw FunctionError.notFound("no function named \(function)", code: "ResourceNotFoundException")
        }
        guard value >= 0 else {
            throw FunctionError.badRequest(
                "provisioned concurrency must be 0 or more", code: "InvalidParameterValueException")
        }
        let limit = limiter.reserved(function) ?? limiter.snapshot.unreservedLimit
        guard value <= limit else {
            throw FunctionError.badRequest(
                "provisioned concurrency \(value) exceeds the \(limiter.reserved(function) != nil ? "reserved concurrency" : "unreserved pool") (\(limit)) of \(function)",
                code: "InvalidParameterValueException")
        }
        let per = hosted.pool.perInstanceConcurrency
        let instances = (value + per - 1) / per
        hosted.scaling.setProvisioned(value)
        updateCaps(hosted)
        try await hosted.pool.setProvisioned(instances)
    }

    func updateCaps(_ f: HostedFunction) {
        let per = f.pool.perInstanceConcurrency
        f.scaling.updateCaps(
            reserved: limiter.reserved(f.name), unreservedLimit: limiter.snapshot.unreservedLimit,
            provisionedInstances: (f.scaling.provisioned + per - 1) / per)
    }

    /// One autoscaler step over every function at `now` (wall-clock seconds): samples each pool's average
    /// concurrency since the last step and records `Instances`, `DesiredInstances` and
    /// `ProvisionedConcurrencyUtilization`; on decision steps moves each autoscaled pool to its desired size.
    /// Returns the scaling activities of this step.
    @discardableResult
    public func scalingStep(
        now: Double, decide: Bool, sampleTime: UInt64 = DispatchTime.now().uptimeNanoseconds
    ) -> [(function: String, activity: ScalingActivity)] {
        var activities: [(String, ScalingActivity)] = []
        for f in functions {
            let (concurrency, provisionedConcurrency) = f.pool.sample(now: sampleTime)
            let pool = f.pool.snapshot
            let (activity, desired) = f.scaling.step(
                now: now, concurrency: concurrency, actual: pool.instances + pool.initializing, decide: decide)
            f.instancesGauge.record(pool.instances)
            if let desired {
                f.desiredInstances.record(desired)
                if decide { f.pool.scale(to: desired) }
            }
            f.billProvisioned(now: now)
            if pool.provisionedInstances > 0 {
                f.provisionedUtilization.record(
                    provisionedConcurrency / Double(pool.provisionedInstances * f.pool.perInstanceConcurrency))
            }
            if let activity { activities.append((f.name, activity)) }
        }
        return activities
    }

    /// Runs one synchronous invocation through the pipeline: admission, an instance (warm, or a cold start the
    /// invocation waits for), the handler, then the instruments.
    public func invoke(
        _ function: HostedFunction, _ request: FunctionRequest,
        started: (@Sendable (_ requestID: String) -> Void)? = nil
    ) async throws -> FunctionResponse {
        guard let admitted = limiter.acquire(function.name) else {
            function.countThrottle()
            throw FunctionError.throttled(function.name, reserved: limiter.reserved(function.name) != nil)
        }
        function.countInvocation()
        record(admitted, function)
        let context = FunctionContext(
            functionName: function.name, requestPrefix: bootPrefix,
            requestNumber: requestCounter.wrappingAdd(1, ordering: .relaxed).newValue, plugin: function.pluginContext)
        started?(context.requestID)
        let start = DispatchTime.now().uptimeNanoseconds
        let lease: InstancePool.Lease
        do {
            lease = try await function.pool.checkout(now: start)
        } catch {
            record(limiter.release(function.name), function)
            function.countError()
            context.logger.error("instance initialisation failed: \(String(describing: error))")
            // A Lambda handler's init error is the operator's own code's (Lambda answers it): passed on as it is.
            if function.pluginName == Self.lambdaPlugin, let error = error as? FunctionError { throw error }
            throw FunctionError(
                status: 500, code: "InitError",
                message: "the function's instance failed to initialise (request \(context.requestID))")
        }
        if lease.hasProvisioned {
            if lease.provisioned {
                function.provisionedInvocations.increment()
            } else {
                function.spilloverInvocations.increment()
            }
        }
        var failed = false
        defer {
            let end = DispatchTime.now().uptimeNanoseconds
            function.pool.checkin(lease.instance, now: end)
            // Lambda's Duration leaves out the init; the REPORT line shows both.
            let nanos = Int64(end - start) - (lease.initNanoseconds ?? 0)
            function.recordDuration(nanoseconds: nanos)
            let billed = function.bill(
                durationNanoseconds: nanos, initNanoseconds: lease.initNanoseconds, onProvisioned: lease.provisioned)
            record(limiter.release(function.name), function)
            switch function.options.reportLog {
            case .all:
                report(
                    context, nanos: nanos, billed: billed, function, initNanos: lease.initNanoseconds, failed: failed)
            case .coldStarts:
                if lease.initNanoseconds != nil {
                    report(
                        context, nanos: nanos, billed: billed, function, initNanos: lease.initNanoseconds,
                        failed: failed)
                }
            case .none: break
            }
        }
        do {
            let response: FunctionResponse
            do {
                response = try await lease.instance.handler(request, context)
            } catch let lost as InstanceLost {
                // The instance's process is gone (killed at its timeout, or it died): it leaves the pool.
                function.pool.retire(lease.instance)
                throw lost.error
            }
            if response.status >= 500 {
                function.countError()
                failed = true
            }
            return response
        } catch let error as FunctionError {
            if error.status >= 500 {
                function.countError()
                failed = true
            }
            throw error
        } catch let error as StoreError where error.code == .invalid {
            // A bad argument the plugin passed on from its caller (an object key with a control character, say).
            throw FunctionError.badRequest(error.message)
        } catch {
            function.countError()
            failed = true
            context.logger.error("unhandled error: \(String(describing: error))")
            throw FunctionError(
                status: 500, code: "ServiceException", message: "the function failed (request \(context.requestID))")
        }
    }

    /// Lambda's REPORT line: `REPORT RequestId: … Duration: 1.23 ms Billed Duration: 203 ms Memory Size: 128 MB
    /// Init Duration: 201.40 ms`.
    private func report(
        _ context: FunctionContext, nanos: Int64, billed: Int64, _ function: HostedFunction, initNanos: Int64?,
        failed: Bool
    ) {
        var line = "REPORT RequestId: \(context.requestID) Duration: \(Self.milliseconds(nanos)) ms"
        line += " Billed Duration: \(billed) ms Memory Size: \(function.options.memoryMB) MB"
        if let initNanos { line += " Init Duration: \(Self.milliseconds(initNanos)) ms" }
        if failed { line += " Status: error" }
        var metadata: Logger.Metadata = ["duration_ms": "\(Self.milliseconds(nanos))"]
        if let initNanos {
            metadata["init_duration_ms"] = "\(Self.milliseconds(initNanos))"
            metadata["cold_start"] = "true"
        }
        context.logger.info("\(line)", metadata: metadata)
    }

    static func milliseconds(_ nanos: Int64) -> String {
        let hundredths = (nanos + 5_000) / 10_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    private func record(_ counts: ConcurrencyLimiter.Counts, _ function: HostedFunction) {
        function.concurrent.record(counts.function)
        accountConcurrent.record(counts.account)
        unreservedConcurrent.record(counts.unreserved)
    }
}
