import Foundation
import Synchronization

/// How the host runs one function: instances, provisioned concurrency, the per-invocation report line and the
/// autoscaler. The config file's `functions.<name>` section sets these.
public struct FunctionOptions: Sendable, Equatable {
    /// Invocations one instance serves at once (Lambda: 1; more for plugins that await I/O).
    public var maxConcurrencyPerInstance = 1
    /// Instances created at start and always kept warm.
    public var provisioned = 0
    /// Which invocations write a `REPORT` line to the plugin's log group.
    public var reportLog: ReportLog = .coldStarts
    /// Whether the autoscaler manages the warm pool; without it instances are created on demand and kept.
    public var autoscaling = true
    /// Autoscaler parameters (its `minInstances`/`maxInstances` are derived: see `FunctionScaling`).
    public var scaling = AutoscalerSettings()
    /// The floor of the warm pool; the provisioned instances are always kept, so nil means just those.
    public var minInstances: Int?
    /// The memory the function is billed for, in MB (Lambda's `MemorySize`: 128 to 10,240, default 128). It prices
    /// usage (`Plumb/Usage/GBSeconds`); Swift plugins share the server's memory, so it limits nothing.
    public var memoryMB = 128

    /// Lambda's range of `MemorySize`.
    public static let memoryRange = 128...10_240

    public enum ReportLog: String, Sendable, Equatable, CaseIterable {
        /// Every invocation, like Lambda's REPORT line.
        case all
        /// Only invocations that waited for a cold start (the default: the interesting ones, and cheap).
        case coldStarts = "cold-starts"
        case none
    }

    public init() {}
}

/// The autoscaler's state for one function: the KPA decision logic, its caps, and the recent scaling activities.
public final class FunctionScaling: Sendable {
    struct State {
        var scaler: Autoscaler
        var enabled: Bool
        var configuredMin: Int?
        var provisioned: Int
        var activities: [ScalingActivity] = []
        var lastDemand = 0.0
        /// The last decision's target (nil before the first).
        var desired: Int?
    }

    /// Activities kept in memory for the API; all of them also go to the log group `/plumb/scaling`.
    public static let keptActivities = 500

    private let state: Mutex<State>

    init(options: FunctionOptions) {
        var settings = options.scaling
        settings.perInstanceConcurrency = options.maxConcurrencyPerInstance
        settings.minInstances = max(options.minInstances ?? 0, options.provisioned)
        state = Mutex(
            State(
                scaler: Autoscaler(settings: settings, instances: 0), enabled: options.autoscaling,
                configuredMin: options.minInstances, provisioned: options.provisioned))
    }

    /// Re-derives the caps: at most the function's share of concurrency (its reservation, else the unreserved
    /// pool) over per-instance concurrency; at least the configured minimum and the provisioned instances.
    func updateCaps(reserved: Int?, unreservedLimit: Int, provisionedInstances: Int) {
        state.withLock { s in
            let per = s.scaler.settings.perInstanceConcurrency
            let concurrency = reserved ?? unreservedLimit
            s.scaler.settings.maxInstances = (concurrency + per - 1) / per
            s.scaler.settings.minInstances = min(
                max(s.configuredMin ?? 0, provisionedInstances), s.scaler.settings.maxInstances)
        }
    }

    func setProvisioned(_ concurrency: Int) {
        state.withLock { $0.provisioned = concurrency }
    }

    /// Feeds one sample of average concurrency; on decision ticks (and when enabled) decides and returns the
    /// activity when the instance count changes. `actual` is the pool's size, which on-demand cold starts may
    /// have moved since the last decision.
    func step(
        now: Double, concurrency: Double, actual: Int, decide: Bool
    ) -> (activity: ScalingActivity?, desired: Int?) {
        state.withLock { s in
            s.scaler.observe(instances: actual)
            s.scaler.record(time: now, concurrency: concurrency)
            s.lastDemand = concurrency
            guard decide, s.enabled else { return (nil, s.enabled ? s.desired : nil) }
            let activity = s.scaler.decide(now: now)
            s.desired = s.scaler.instances
            guard let activity else { return (nil, s.desired) }
            s.activities.append(activity)
            if s.activities.count > Self.keptActivities {
                s.activities.removeFirst(s.activities.count - Self.keptActivities)
            }
            return (activity, s.desired)
        }
    }

    /// What `GET /api/v1/functions/{name}/scaling` shows besides the pool.
    public struct Description: Sendable {
        public var enabled: Bool
        public var settings: AutoscalerSettings
        public var desiredInstances: Int?
        public var panicking: Bool
        public var lastConcurrency: Double
        public var activities: [ScalingActivity]
    }

    public func describe(activityLimit: Int = 100) -> Description {
        state.withLock { s in
            Description(
                enabled: s.enabled, settings: s.scaler.settings, desiredInstances: s.enabled ? s.desired : nil,
                panicking: s.scaler.panicking, lastConcurrency: s.lastDemand,
                activities: Array(s.activities.suffix(activityLimit)))
        }
    }

    public var provisioned: Int { state.withLock { $0.provisioned } }
}
