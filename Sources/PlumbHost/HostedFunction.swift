import CoreMetrics
import Logging
import Metrics
import PlumbKit
import PlumbMetrics
import Synchronization

/// A function as the host runs it: its pool of instances, its autoscaler state, and its instruments.
public final class HostedFunction: Sendable {
    /// `<plugin>.<function>`.
    public let name: String
    public let pluginName: String
    public let trigger: Trigger
    /// Who may call it (enforced by the server on its HTTP route and the invoke API).
    public let access: Access
    /// The HTTP body arrives as a stream.
    public let streaming: Bool
    public let options: FunctionOptions
    /// The warm instances (execution environments).
    public let pool: InstancePool
    public let scaling: FunctionScaling
    let pluginContext: PluginContext

    let invocations: Counter
    let errors: Counter
    let throttles: Counter
    let duration: Metrics.Timer
    let concurrent: Recorder
    /// Account-wide series without dimensions (Lambda's "across all functions"), so one alarm covers every function.
    let accountInvocations: Counter
    let accountErrors: Counter
    let accountThrottles: Counter
    let accountDuration: Metrics.Timer
    let provisionedInvocations: Counter
    let spilloverInvocations: Counter
    /// `Plumb/Usage`: what the invocations are billed, by Lambda's rules (`bill`): on-demand duration, duration on
    /// provisioned instances, and the provisioned concurrency held (`billProvisioned`), each in GB-seconds, as
    /// Lambda's three price lines.
    let usageRequests: Counter
    let usageGBSeconds: FloatingPointCounter
    let usageProvisionedDuration: FloatingPointCounter
    let usageProvisionedConcurrency: FloatingPointCounter
    /// Makes the usage counters of an invocation made for an IAM user (`UsageAttribution`).
    let usageFactory: MetricsFactory
    /// Async events accepted for the function (`AsyncEventsReceived`, and in `Plumb/Usage`).
    let asyncEventsReceived: Counter
    let usageAsyncEvents: Counter
    /// When the provisioned concurrency was last billed (wall-clock seconds).
    let provisionedBilledAt = Mutex<Double?>(nil)
    let instancesGauge: Recorder
    let desiredInstances: Recorder
    let provisionedUtilization: Recorder

    init(
        name: String, pluginName: String, trigger: Trigger, access: Access = .public, streaming: Bool = false,
        options: FunctionOptions,
        pluginContext: PluginContext,
        factory: MetricsFactory, logger: Logger, makeInstance: @escaping InstancePool.Factory
    ) {
        self.name = name
        self.pluginName = pluginName
        self.trigger = trigger
        self.access = access
        self.streaming = streaming
        self.options = options
        self.pluginContext = pluginContext
        self.usageFactory = factory
        let dimensions = [("Function", name)]
        let coldStarts = Counter(label: "Plumb/Functions/ColdStarts", dimensions: dimensions, factory: factory)
        // Account-wide too, as Invocations and Errors are: one series for "cold starts anywhere" (a dashboard, an alarm).
        let accountColdStarts = Counter(label: "Plumb/Functions/ColdStarts", dimensions: [], factory: factory)
        let initDuration = Metrics.Timer(
            label: "Plumb/Functions/InitDuration", dimensions: dimensions, factory: factory)
        let instances = Recorder(
            label: "Plumb/Functions/Instances", dimensions: dimensions, aggregate: false, factory: factory)
        instancesGauge = instances
        var poolLogger = logger
        poolLogger[metadataKey: "function"] = .string(name)
        pool = InstancePool(
            perInstanceConcurrency: options.maxConcurrencyPerInstance, factory: makeInstance,
            metrics: .init(
                coldStarts: {
                    coldStarts.increment()
                    accountColdStarts.increment()
                },
                initDuration: { initDuration.recordNanoseconds($0) },
                instances: { instances.record($0) }),
            logger: poolLogger)
        scaling = FunctionScaling(options: options)
        provisionedInvocations = Counter(
            label: "Plumb/Functions/ProvisionedConcurrencyInvocations", dimensions: dimensions, factory: factory)
        spilloverInvocations = Counter(
            label: "Plumb/Functions/ProvisionedConcurrencySpilloverInvocations", dimensions: dimensions,
            factory: factory)
        desiredInstances = Recorder(
            label: "Plumb/Functions/DesiredInstances", dimensions: dimensions, aggregate: false, factory: factory)
        provisionedUtilization = Recorder(
            label: "Plumb/Functions/ProvisionedConcurrencyUtilization", dimensions: dimensions, aggregate: false,
            factory: factory)
        invocations = Counter(label: "Plumb/Functions/Invocations", dimensions: dimensions, factory: factory)
        errors = Counter(label: "Plumb/Functions/Errors", dimensions: dimensions, factory: factory)
        throttles = Counter(label: "Plumb/Functions/Throttles", dimensions: dimensions, factory: factory)
        duration = Metrics.Timer(label: "Plumb/Functions/Duration", dimensions: dimensions, factory: factory)
        concurrent = Recorder(
            label: "Plumb/Functions/ConcurrentExecutions", dimensions: dimensions, aggregate: false, factory: factory)
        accountInvocations = Counter(label: "Plumb/Functions/Invocations", dimensions: [], factory: factory)
        accountErrors = Counter(label: "Plumb/Functions/Errors", dimensions: [], factory: factory)
        accountThrottles = Counter(label: "Plumb/Functions/Throttles", dimensions: [], factory: factory)
        accountDuration = Metrics.Timer(label: "Plumb/Functions/Duration", dimensions: [], factory: factory)
        usageRequests = Counter(label: "Plumb/Usage/Requests", dimensions: dimensions, factory: factory)
        usageGBSeconds = FloatingPointCounter(label: "Plumb/Usage/GBSeconds", dimensions: dimensions, factory: factory)
        asyncEventsReceived = Counter(
            label: "Plumb/Functions/AsyncEventsReceived", dimensions: dimensions, factory: factory)
        usageAsyncEvents = Counter(label: "Plumb/Usage/AsyncEvents", dimensions: dimensions, factory: factory)
        usageProvisionedDuration = FloatingPointCounter(
            label: "Plumb/Usage/ProvisionedDurationGBSeconds", dimensions: dimensions, factory: factory)
        usageProvisionedConcurrency = FloatingPointCounter(
            label: "Plumb/Usage/ProvisionedConcurrencyGBSeconds", dimensions: dimensions, factory: factory)
    }

    /// An admitted invocation; `Errors` and `Throttles` get a 0 for the interval too, so a minute with invocations and
    /// no errors shows 0 errors (Lambda's metrics do), not "no data".
    func countInvocation() {
        invocations.increment()
        accountInvocations.increment()
        for counter in [errors, accountErrors, throttles, accountThrottles] { counter.increment(by: 0) }
    }

    /// An async event accepted into the queue (Lambda's `AsyncEventsReceived`).
    public func countAsyncEvent() {
        asyncEventsReceived.increment()
        if let user = UsageAttribution.user {
            Counter(
                label: "Plumb/Usage/AsyncEvents", dimensions: [("Function", name), ("User", user)],
                factory: usageFactory
            ).increment()
        } else {
            usageAsyncEvents.increment()
        }
    }

    func countError() {
        errors.increment()
        accountErrors.increment()
    }

    func countThrottle() {
        throttles.increment()
        accountThrottles.increment()
    }

    func recordDuration(nanoseconds: Int64) {
        duration.recordNanoseconds(nanoseconds)
        accountDuration.recordNanoseconds(nanoseconds)
    }

    /// Bills one invocation as Lambda does and records it in `Plumb/Usage`: a request, and GB-seconds of the
    /// configured memory over the billed duration. Returns the billed milliseconds (for the REPORT line).
    /// An invocation served by a provisioned instance is billed at Lambda's provisioned duration price: its GB-seconds
    /// go to `ProvisionedDurationGBSeconds`, the others' to `GBSeconds`. An invocation made for an IAM user
    /// (`UsageAttribution.user`) is recorded on series that also carry `User`.
    @discardableResult
    func bill(durationNanoseconds: Int64, initNanoseconds: Int64?, onProvisioned: Bool = false) -> Int64 {
        let billed = Self.billedMilliseconds(durationNanoseconds: durationNanoseconds, initNanoseconds: initNanoseconds)
        let gbSeconds = Self.gigabyteSeconds(memoryMB: options.memoryMB, milliseconds: billed)
        if let user = UsageAttribution.user {
            // Invoked through the API by an IAM user: the same usage, on the user's series.
            let dimensions = [("Function", name), ("User", user)]
            Counter(label: "Plumb/Usage/Requests", dimensions: dimensions, factory: usageFactory).increment()
            FloatingPointCounter(
                label: onProvisioned ? "Plumb/Usage/ProvisionedDurationGBSeconds" : "Plumb/Usage/GBSeconds",
                dimensions: dimensions, factory: usageFactory
            ).increment(by: gbSeconds)
        } else {
            usageRequests.increment()
            (onProvisioned ? usageProvisionedDuration : usageGBSeconds).increment(by: gbSeconds)
        }
        return billed
    }

    /// Bills the provisioned concurrency held since the last call (the autoscaler's step, every second): the
    /// configured concurrency × memory × elapsed seconds, in `ProvisionedConcurrencyGBSeconds`. An interval that
    /// is negative or longer than a minute (the clock moved, the process was stopped) is not billed.
    func billProvisioned(now: Double) {
        let concurrency = scaling.provisioned
        let elapsed: Double? = provisionedBilledAt.withLock { last in
            defer { last = concurrency > 0 ? now : nil }
            return last.map { now - $0 }
        }
        guard concurrency > 0, let elapsed, elapsed > 0, elapsed <= 60 else { return }
        usageProvisionedConcurrency.increment(by: Double(options.memoryMB) / 1_024 * Double(concurrency) * elapsed)
    }

    /// Lambda's billed duration: the handler's run plus the init phase of a cold start (billed for on-demand
    /// functions since 1 August 2025), rounded up to the millisecond, 1 ms at least.
    public static func billedMilliseconds(durationNanoseconds: Int64, initNanoseconds: Int64?) -> Int64 {
        let total = max(0, durationNanoseconds) &+ max(0, initNanoseconds ?? 0)
        return max(1, total / 1_000_000 + (total % 1_000_000 == 0 ? 0 : 1))
    }

    /// Memory in GB (1,024 MB) times billed seconds.
    public static func gigabyteSeconds(memoryMB: Int, milliseconds: Int64) -> Double {
        Double(memoryMB) / 1_024 * Double(milliseconds) / 1_000
    }

    /// The IAM action an operator needs for an `.admin` function: `sensors:LifecycleNow`.
    public var adminAction: String {
        Access.adminAction(plugin: pluginName, function: String(name.dropFirst(pluginName.count + 1)))
    }

    /// The kind of trigger, as the API lists it.
    public var kind: String {
        switch trigger {
        case .http: "http"
        case .webSocket: "websocket"
        case .schedule: "schedule"
        case .event: "event"
        }
    }
}
