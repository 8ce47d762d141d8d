import PlumbAPI
import PlumbHost

extension AutoscalingDescription {
    /// The autoscaler's settings and state as the API shows them (windows and grace in seconds).
    init(_ d: FunctionScaling.Description) {
        self.init(
            enabled: d.enabled, targetUtilization: d.settings.targetUtilization,
            stableWindowSeconds: d.settings.stableWindow,
            panicWindowSeconds: d.settings.panicWindow, panicThreshold: d.settings.panicThreshold,
            maxScaleUpPer10s: d.settings.maxScaleUpPer10s, maxScaleDownFactor: d.settings.maxScaleDownFactor,
            scaleToZeroGraceSeconds: d.settings.scaleToZeroGrace, minInstances: d.settings.minInstances,
            maxInstances: d.settings.maxInstances, desiredInstances: d.desiredInstances, panicking: d.panicking)
    }
}
