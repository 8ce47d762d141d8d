import Foundation

/// Parameters of the autoscaler, with Knative's (KPA) and Lambda's defaults.
public struct AutoscalerSettings: Sendable, Equatable {
    /// Fraction of an instance's concurrency to aim for (Knative: 70 %).
    public var targetUtilization = 0.7
    /// Invocations one instance serves at once (Lambda: 1).
    public var perInstanceConcurrency = 1
    /// Seconds of demand averaged for normal decisions (Knative: 60).
    public var stableWindow = 60.0
    /// Seconds of demand averaged to detect bursts (Knative: 10 % of the stable window).
    public var panicWindow = 6.0
    /// Panic when the panic-window demand needs this multiple of the current instances (Knative: 200 %).
    public var panicThreshold = 2.0
    /// At most this many new instances per 10 seconds (Lambda: 1,000).
    public var maxScaleUpPer10s = 1_000
    /// At most divide the instances by this per decision (Knative: 2).
    public var maxScaleDownFactor = 2.0
    /// Seconds without demand before scaling to the minimum (Knative's scale-to-zero grace: 30).
    public var scaleToZeroGrace = 30.0
    /// Never fewer instances (provisioned concurrency).
    public var minInstances = 0
    /// Never more instances (reserved concurrency or the account limit, over per-instance concurrency).
    public var maxInstances = 1_000

    public init() {}
}

/// One scaling decision, as `GET /api/v1/functions/{name}/scaling` and `/plumb/scaling` show it.
public struct ScalingActivity: Sendable, Equatable {
    public var time: Double
    public var from: Int
    public var to: Int
    public var reason: String
    public var stableDemand: Double
    public var panicDemand: Double
    public var panicking: Bool
}

/// Knative's KPA decision logic for one function, as a value type driven by an injected clock.
///
/// Feed it the observed concurrency (`record`), ask it every 2 s (`decide`). Desired instances =
/// ceil(demand / (per-instance concurrency × target)), from the panic window while panicking, otherwise from the
/// larger of the two windows: Knative uses only the stable window outside panic, which leaves a steady ramp (one that
/// never doubles within 6 s) up to a minute behind; Plumb follows the short window up and needs both to go down. Panic starts when the panic-window desire reaches `panicThreshold` × current instances; while
/// panicking the instances never go down, and panic ends after a full stable window below the threshold.
/// Scale-up is rate-limited per 10 s; scale-down at most halves per decision; without demand for the grace period
/// the function scales to its minimum (zero unless provisioned).
public struct Autoscaler: Sendable {
    public var settings: AutoscalerSettings
    public private(set) var instances: Int
    public private(set) var panicking = false
    var panicBelowSince: Double?
    var lastDemandAt: Double?
    /// (second, summed concurrency, observations) per 1-second bucket.
    var buckets: [(second: Int64, sum: Double, count: Double)] = []
    var scaleUps: [(time: Double, added: Int)] = []

    public init(settings: AutoscalerSettings, instances: Int = 0) {
        self.settings = settings
        self.instances = max(instances, settings.minInstances)
    }

    /// Tells the autoscaler how many instances there really are (cold starts on demand add some between decisions).
    public mutating func observe(instances actual: Int) {
        instances = actual
    }

    /// Records the concurrency seen at `time` (seconds).
    public mutating func record(time: Double, concurrency: Double) {
        let second = Int64(time.rounded(.down))
        if let last = buckets.last, last.second == second {
            buckets[buckets.count - 1].sum += concurrency
            buckets[buckets.count - 1].count += 1
        } else {
            buckets.append((second, concurrency, 1))
        }
        // Instances that exist before any demand (warmed at start) get the grace period too.
        if concurrency > 0 || (lastDemandAt == nil && instances > 0) { lastDemandAt = time }
        let horizon = second - Int64(settings.stableWindow) - 1
        if let first = buckets.first, first.second < horizon { buckets.removeAll { $0.second < horizon } }
    }

    /// Average concurrency over the last `window` seconds before `now`; seconds without observations count as 0.
    func average(window: Double, now: Double) -> Double {
        let end = Int64(now.rounded(.down))
        let start = end - Int64(window)
        var total = 0.0
        for b in buckets where b.second >= start && b.second < end { total += b.sum / b.count }
        return total / window
    }

    func desired(for demand: Double) -> Int {
        Int((demand / (Double(settings.perInstanceConcurrency) * settings.targetUtilization)).rounded(.up))
    }

    /// One decision at `now`; returns the activity when the instance count changes.
    public mutating func decide(now: Double) -> ScalingActivity? {
        let stable = average(window: settings.stableWindow, now: now)
        let panic = average(window: settings.panicWindow, now: now)
        let stableWant = desired(for: stable)
        let panicWant = desired(for: panic)
        let overThreshold =
            panicWant > 0 && Double(panicWant) >= settings.panicThreshold * Double(max(instances, 1))
            && panicWant > instances

        var reason: String
        if overThreshold {
            if !panicking { panicking = true }
            panicBelowSince = nil
        } else if panicking {
            if panicBelowSince == nil { panicBelowSince = now }
            if now - panicBelowSince! >= settings.stableWindow {
                panicking = false
                panicBelowSince = nil
            }
        }
        var target: Int
        if panicking {
            target = max(panicWant, instances)
            reason =
                "panic: \(String(format: "%.1f", panic)) in flight over \(Int(settings.panicWindow)) s needs \(panicWant)"
        } else if panicWant > stableWant {
            // A ramp never doubles within the panic window, so it never panics; following the short window up keeps
            // the pool ahead of it instead of 60 s behind. Down, both windows must agree.
            target = panicWant
            reason =
                "rising: \(String(format: "%.1f", panic)) in flight over \(Int(settings.panicWindow)) s needs \(panicWant)"
        } else {
            target = stableWant
            reason =
                "stable: \(String(format: "%.1f", stable)) in flight over \(Int(settings.stableWindow)) s needs \(stableWant)"
        }
        // Scale to the minimum only after the grace period without demand.
        if target == 0, let last = lastDemandAt, now - last < settings.scaleToZeroGrace {
            target = min(instances, 1)
            reason += "; holding 1 instance for the \(Int(settings.scaleToZeroGrace)) s grace"
        }
        // Scale-down: at most halve per decision.
        if target < instances {
            let floor = Int((Double(instances) / settings.maxScaleDownFactor).rounded(.down))
            if target < floor {
                target = floor
                reason += "; scale-down limited to ÷\(Int(settings.maxScaleDownFactor))"
            }
        }
        // Scale-up: at most maxScaleUpPer10s new instances in any 10 s.
        scaleUps.removeAll { now - $0.time >= 10 }
        if target > instances {
            let budget = settings.maxScaleUpPer10s - scaleUps.reduce(0) { $0 + $1.added }
            if target - instances > budget {
                target = instances + max(budget, 0)
                reason += "; scale-up limited to \(settings.maxScaleUpPer10s) per 10 s"
            }
        }
        // Caps.
        if target > settings.maxInstances {
            target = settings.maxInstances
            reason += "; capped at \(settings.maxInstances)"
        }
        if target < settings.minInstances {
            target = settings.minInstances
            reason += "; floor of \(settings.minInstances) provisioned"
        }
        guard target != instances else { return nil }
        if target > instances { scaleUps.append((now, target - instances)) }
        let activity = ScalingActivity(
            time: now, from: instances, to: target, reason: reason, stableDemand: stable, panicDemand: panic,
            panicking: panicking)
        instances = target
        return activity
    }
}
