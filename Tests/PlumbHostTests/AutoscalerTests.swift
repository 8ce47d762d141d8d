import PlumbHost
import Testing

/// The KPA-style autoscaler under an injected clock: demand is recorded every second, decisions every 2 s.
@Suite struct AutoscalerTests {
    /// Runs from `from` to `to` (seconds), recording `demand(t)` each second and deciding every 2 s.
    static func run(_ scaler: inout Autoscaler, from: Int, to: Int, demand: (Int) -> Double) -> [ScalingActivity] {
        var activities: [ScalingActivity] = []
        for t in from..<to {
            scaler.record(time: Double(t), concurrency: demand(t))
            if (t + 1) % 2 == 0, let a = scaler.decide(now: Double(t + 1)) { activities.append(a) }
        }
        return activities
    }

    @Test func aStepPanicsScalesUpHoldsThenScalesDownGraduallyAndToZero() {
        var scaler = Autoscaler(settings: AutoscalerSettings())
        var log: [ScalingActivity] = []
        // Idle, then a step from 0 to 50 concurrent at t = 100.
        log += Self.run(&scaler, from: 0, to: 100) { _ in 0 }
        #expect(scaler.instances == 0 && log.isEmpty)
        log += Self.run(&scaler, from: 100, to: 102) { _ in 50 }
        #expect(scaler.panicking, "panic within one 2 s tick")
        #expect(scaler.instances > 0)
        log += Self.run(&scaler, from: 102, to: 106) { _ in 50 }
        #expect(scaler.instances >= 72, "50 / 0.7 = 71.4 → 72 once the panic window is full; got \(scaler.instances)")

        // Demand drops to 5: no scale-down while panicking.
        let before = scaler.instances
        log += Self.run(&scaler, from: 106, to: 160) { t in t < 130 ? 50 : 5 }
        #expect(scaler.panicking)
        #expect(scaler.instances >= before)
        // A full stable window below the threshold ends panic; then at most halving per decision.
        let fromPanic = log.count
        log += Self.run(&scaler, from: 160, to: 320) { _ in 5 }
        #expect(!scaler.panicking)
        let downs = log[fromPanic...].filter { $0.to < $0.from }
        #expect(!downs.isEmpty)
        #expect(downs.allSatisfy { $0.to >= $0.from / 2 }, "\(downs.map { "\($0.from)→\($0.to)" })")
        #expect(scaler.instances == 8, "5 / 0.7 → 8; got \(scaler.instances)")

        // No demand: held through the grace period, then down to zero.
        log += Self.run(&scaler, from: 320, to: 345) { _ in 0 }
        #expect(scaler.instances >= 1, "within the 30 s grace")
        log += Self.run(&scaler, from: 345, to: 500) { _ in 0 }
        #expect(scaler.instances == 0)
        // Every change is an activity, and the activities chain.
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.to == $1.from })
        #expect(log.first?.from == 0 && log.last?.to == 0)
    }

    @Test func scaleUpIsRateLimitedAndCapped() {
        var settings = AutoscalerSettings()
        settings.maxScaleUpPer10s = 100
        settings.maxInstances = 250
        var scaler = Autoscaler(settings: settings)
        var log = Self.run(&scaler, from: 0, to: 10) { _ in 5_000 }
        #expect(scaler.instances == 100, "at most 100 new instances in the first 10 s")
        #expect(log.last?.reason.contains("limited to 100 per 10 s") == true)
        log += Self.run(&scaler, from: 10, to: 40) { _ in 5_000 }
        #expect(scaler.instances == 250, "capped by reserved concurrency")
        #expect(log.contains { $0.reason.contains("capped at 250") })
        for window in stride(from: 0.0, to: 40.0, by: 2) {
            let added = log.filter { $0.time > window && $0.time <= window + 10 && $0.to > $0.from }.reduce(0) {
                $0 + $1.to - $1.from
            }
            #expect(added <= 100)
        }
    }

    @Test func provisionedInstancesAreAFloor() {
        var settings = AutoscalerSettings()
        settings.minInstances = 3
        var scaler = Autoscaler(settings: settings)
        #expect(scaler.instances == 3)
        _ = Self.run(&scaler, from: 0, to: 20) { _ in 10 }
        #expect(scaler.instances >= 15)
        _ = Self.run(&scaler, from: 20, to: 400) { _ in 0 }
        #expect(scaler.instances == 3)
    }
}
