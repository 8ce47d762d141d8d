/// The result of evaluating one metric alarm over its evaluation range.
public struct AlarmEvaluation: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case state(AlarmState)
        /// `treat_missing_data: ignore` (or a low-sample percentile under `ignore`): keep the current state.
        case keepCurrent
    }

    public var outcome: Outcome
    /// The real datapoints that were evaluated, oldest first.
    public var evaluated: [EvaluationDatapoint]
    /// Breaching points among the N evaluated, filled ones included.
    public var breaching: Int
    /// Missing points filled in with the treatment (0 when N real points were found).
    public var filled: Int
    /// True when ALARM came from the premature-alarm rule rather than from M breaching points.
    public var premature: Bool
    /// True when a percentile period had fewer samples than the low-sample limit and the alarm ignores those.
    public var lowSampleCount: Bool
}

/// CloudWatch's evaluation of M out of N datapoints with missing-data treatment, as a pure function.
///
/// 1. With at least N real datapoints in the range, the most recent N real ones are evaluated and the
///    treatment is not used.
/// 2. Otherwise every real point in the range is used, however old, and the rest of the N are filled with
///    the treatment. `breaching`/`notBreaching` fill with that; `missing`/`ignore` fill with unknowns: M
///    breaching points → ALARM; a real point within the threshold → OK; no real point at all →
///    INSUFFICIENT_DATA (`missing`) or no change (`ignore`).
/// 3. The premature-alarm rule: under `missing`, when only breaching points are present, fewer than M, and the
///    oldest of them is at least M periods old, the alarm goes to ALARM; under `ignore` the state is kept.
///
/// This reproduces both documented tables in ../shared/reference/cloudwatch.md row by row (see
/// `MissingDataTableTests`).
public enum AlarmEvaluator {
    /// Evaluates `range` (oldest first; one entry per period, `value == nil` when missing).
    public static func evaluate(_ alarm: MetricAlarm, range: [EvaluationDatapoint]) -> AlarmEvaluation {
        let n = alarm.evaluationPeriods
        let m = alarm.datapointsToAlarm
        let real = range.filter { $0.value != nil }
        func breaches(_ point: EvaluationDatapoint) -> Bool {
            alarm.comparison.breaches(point.value!, alarm.threshold)
        }

        var result = AlarmEvaluation(
            outcome: .keepCurrent, evaluated: [], breaching: 0, filled: 0, premature: false, lowSampleCount: false)

        if real.count >= n {
            result.evaluated = Array(real.suffix(n))
            result.breaching = result.evaluated.filter(breaches).count
            result.outcome = .state(result.breaching >= m ? .alarm : .ok)
        } else {
            result.evaluated = real
            result.filled = n - real.count
            let realBreaching = real.filter(breaches).count
            switch alarm.treatMissingData {
            case .breaching:
                result.breaching = realBreaching + result.filled
                result.outcome = .state(result.breaching >= m ? .alarm : .ok)
            case .notBreaching:
                result.breaching = realBreaching
                result.outcome = .state(result.breaching >= m ? .alarm : .ok)
            case .missing, .ignore:
                result.breaching = realBreaching
                if realBreaching >= m {
                    result.outcome = .state(.alarm)
                } else if realBreaching < real.count {
                    result.outcome = .state(.ok)
                } else if let oldest = range.firstIndex(where: { $0.value != nil }), range.count - oldest >= m {
                    // Only breaching points, the oldest at least M periods old: the premature-alarm rule.
                    result.premature = true
                    result.outcome = alarm.treatMissingData == .missing ? .state(.alarm) : .keepCurrent
                } else {
                    result.outcome = alarm.treatMissingData == .missing ? .state(.insufficientData) : .keepCurrent
                }
            }
        }

        if !alarm.evaluateLowSampleCountPercentile, let limit = alarm.lowSampleCountLimit,
            result.evaluated.contains(where: { $0.sampleCount < limit })
        {
            result.lowSampleCount = true
            result.outcome = .keepCurrent
        }
        return result
    }
}
