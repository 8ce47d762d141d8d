/// A hosted function: its trigger, its concurrency (Lambda's reserved and provisioned concurrency), its instances and
/// its autoscaler.
public struct FunctionDescription: Codable, Sendable, Equatable {
    /// `plugin.function`.
    public var name: String
    public var plugin: String
    public var kind: String
    /// `POST /apps/…`, `WebSocket /apps/… $default`, a schedule expression, or `event`.
    public var trigger: String
    /// Absent when the function shares the unreserved pool.
    public var reservedConcurrency: Int?
    public var provisionedConcurrency: Int
    public var concurrentExecutions: Int
    public var maxConcurrencyPerInstance: Int
    public var instances: Int
    public var provisionedInstances: Int
    public var initializingInstances: Int
    public var coldStarts: Int
    /// How each invocation's REPORT line is logged.
    public var reportLog: String
    /// The memory its usage is billed for (MB, Lambda's `MemorySize`).
    public var memoryMB: Int
    public var autoscaling: AutoscalingDescription
    /// A Lambda handler's definition; absent for a plugin's function.
    public var lambda: LambdaHandlerDescription?

    public init(
        name: String, plugin: String, kind: String, trigger: String, reservedConcurrency: Int?,
        provisionedConcurrency: Int,
        concurrentExecutions: Int, maxConcurrencyPerInstance: Int, instances: Int, provisionedInstances: Int,
        initializingInstances: Int, coldStarts: Int, reportLog: String, memoryMB: Int = 128,
        autoscaling: AutoscalingDescription, lambda: LambdaHandlerDescription? = nil
    ) {
        self.lambda = lambda
        self.name = name
        self.plugin = plugin
        self.kind = kind
        self.trigger = trigger
        self.reservedConcurrency = reservedConcurrency
        self.provisionedConcurrency = provisionedConcurrency
        self.concurrentExecutions = concurrentExecutions
        self.maxConcurrencyPerInstance = maxConcurrencyPerInstance
        self.instances = instances
        self.provisionedInstances = provisionedInstances
        self.initializingInstances = initializingInstances
        self.coldStarts = coldStarts
        self.reportLog = reportLog
        self.memoryMB = memoryMB
        self.autoscaling = autoscaling
    }
}
