/// `GET /api/v1/functions/{name}/scaling`: a function's instances now, its autoscaler, and its recent scaling
/// activities, newest first (every activity is also in the log group `/plumb/scaling`).
public struct ScalingDescription: Codable, Sendable, Equatable {
    public var function: String
    public var instances: Int
    public var initializingInstances: Int
    public var provisionedInstances: Int
    /// The concurrency the autoscaler last measured.
    public var concurrency: Double
    public var autoscaling: AutoscalingDescription
    public var activities: [ScalingActivity]

    public init(
        function: String, instances: Int, initializingInstances: Int, provisionedInstances: Int, concurrency: Double,
        autoscaling: AutoscalingDescription, activities: [ScalingActivity]
    ) {
        self.function = function
        self.instances = instances
        self.initializingInstances = initializingInstances
        self.provisionedInstances = provisionedInstances
        self.concurrency = concurrency
        self.autoscaling = autoscaling
        self.activities = activities
    }
}
