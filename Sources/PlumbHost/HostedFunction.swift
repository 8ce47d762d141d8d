import CoreMetrics
import Metrics
import PlumbKit

/// A function as the host runs it: its handler bound to a plugin instance, and its instruments.
public final class HostedFunction: Sendable {
    /// `<plugin>.<function>`.
    public let name: String
    public let pluginName: String
    public let trigger: Trigger
    let handler: @Sendable (FunctionRequest, FunctionContext) async throws -> FunctionResponse
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

    init(
        name: String, pluginName: String, trigger: Trigger, pluginContext: PluginContext, factory: MetricsFactory,
        handler: @escaping @Sendable (FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) {
        self.name = name
        self.pluginName = pluginName
        self.trigger = trigger
        self.pluginContext = pluginContext
        self.handler = handler
        let dimensions = [("Function", name)]
        invocations = Counter(label: "Plumb/Functions/Invocations", dimensions: dimensions, factory: factory)
        errors = Counter(label: "Plumb/Functions/Errors", dimensions: dimensions, factory: factory)
        throttles = Counter(label: "Plumb/Functions/Throttles", dimensions: dimensions, factory: factory)
        duration = Metrics.Timer(label: "Plumb/Functions/Duration", dimensions: dimensions, factory: factory)
        concurrent = Recorder(label: "Plumb/Functions/ConcurrentExecutions", dimensions: dimensions, aggregate: false, factory: factory)
        accountInvocations = Counter(label: "Plumb/Functions/Invocations", dimensions: [], factory: factory)
        accountErrors = Counter(label: "Plumb/Functions/Errors", dimensions: [], factory: factory)
        accountThrottles = Counter(label: "Plumb/Functions/Throttles", dimensions: [], factory: factory)
        accountDuration = Metrics.Timer(label: "Plumb/Functions/Duration", dimensions: [], factory: factory)
    }

    func countInvocation() {
        invocations.increment()
        accountInvocations.increment()
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
