import Foundation

/// A piecewise-linear level over time: a start value and stages that move linearly to a target over a duration
/// (k6's `stages`). A constant profile is one stage whose target is the start. Used for arrival rates (open model)
/// and for numbers of virtual users (closed model).
public struct Profile: Sendable, Equatable {
    public struct Stage: Sendable, Equatable {
        public var duration: Double
        public var target: Double
        public init(duration: Double, target: Double) {
            self.duration = duration
            self.target = target
        }
    }

    public var start: Double
    public var stages: [Stage]

    public init(start: Double, stages: [Stage]) {
        self.start = start
        self.stages = stages
    }

    public static func constant(_ value: Double, for duration: Double) -> Profile {
        Profile(start: value, stages: [Stage(duration: duration, target: value)])
    }

    public var duration: Double { stages.reduce(0) { $0 + $1.duration } }

    /// The level at `t` seconds (the last target after the end).
    public func value(at t: Double) -> Double {
        var from = start
        var elapsed = 0.0
        for stage in stages {
            if t < elapsed + stage.duration {
                return from + (stage.target - from) * (t - elapsed) / stage.duration
            }
            elapsed += stage.duration
            from = stage.target
        }
        return from
    }

    /// The integral of the level from 0 to the end: the expected number of arrivals of a rate profile.
    public var total: Double {
        var from = start
        var sum = 0.0
        for stage in stages {
            sum += (from + stage.target) / 2 * stage.duration
            from = stage.target
        }
        return sum
    }

    /// The time of arrival `k` (0-based) of a rate profile: the t at which the integral of the rate reaches k.
    /// `nil` when the profile ends first.
    public func arrivalTime(_ k: Int) -> Double? {
        var need = Double(k)
        var from = start
        var elapsed = 0.0
        for stage in stages {
            let area = (from + stage.target) / 2 * stage.duration
            if need < area || (need == 0 && area == 0 && from > 0) {
                // Solve from·x + (slope/2)·x² = need for x in [0, duration].
                let slope = (stage.target - from) / stage.duration
                let x: Double
                if abs(slope) < 1e-12 {
                    x = need / from
                } else {
                    let discriminant = max(0, from * from + 2 * slope * need)
                    x = (-from + discriminant.squareRoot()) / slope
                }
                return elapsed + min(max(0, x), stage.duration)
            }
            need -= area
            elapsed += stage.duration
            from = stage.target
        }
        return nil
    }
}
