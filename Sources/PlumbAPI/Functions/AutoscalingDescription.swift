/// A function's autoscaler, as Knative's KPA: a target utilisation over a stable window, a panic window that scales up
/// fast past a threshold, bounded steps up and down, and a grace period before scaling to zero.
public struct AutoscalingDescription: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var targetUtilization: Double
    public var stableWindowSeconds: Double
    public var panicWindowSeconds: Double
    public var panicThreshold: Double
    public var maxScaleUpPer10s: Int
    public var maxScaleDownFactor: Double
    public var scaleToZeroGraceSeconds: Double
    public var minInstances: Int
    public var maxInstances: Int
    /// What the autoscaler last asked for; absent before its first decision.
    public var desiredInstances: Int?
    public var panicking: Bool

    public init(
        enabled: Bool, targetUtilization: Double, stableWindowSeconds: Double, panicWindowSeconds: Double,
        panicThreshold: Double,
        maxScaleUpPer10s: Int, maxScaleDownFactor: Double, scaleToZeroGraceSeconds: Double, minInstances: Int,
        maxInstances: Int,
        desiredInstances: Int?, panicking: Bool
    ) {
        self.enabled = enabled
        self.targetUtilization = targetUtilization
        self.stableWindowSeconds = stableWindowSeconds
        self.panicWindowSeconds = panicWindowSeconds
        self.panicThreshold = panicThreshold
        self.maxScaleUpPer10s = maxScaleUpPer10s
        self.maxScaleDownFactor = maxScaleDownFactor
        self.scaleToZeroGraceSeconds = scaleToZeroGraceSeconds
        self.minInstances = minInstances
        self.maxInstances = maxInstances
        self.desiredInstances = desiredInstances
        self.panicking = panicking
    }
}
