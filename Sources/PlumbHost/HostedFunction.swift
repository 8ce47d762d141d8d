import CoreMetrics
import Logging
import Metrics
import PlumbKit

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
    }

    /// An admitted invocation; `Errors` and `Throttles` get a 0 for the interval too, so a minute with invocations and
    /// no errors shows 0 errors (Lambda's metrics do), not "no data".
    func countInvocation() {
        invocations.increment()
        accountInvocations.increment()
        for counter in [errors, accountErrors, throttles, accountThrottles] { counter.increment(by: 0) }
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
