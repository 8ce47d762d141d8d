import Foundation

/// The state-reason text CloudWatch writes, e.g. "Threshold Crossed: 2 out of the last 3 datapoints
/// [5.0 (22/11/26 10:02:00), 5.0 (22/11/26 10:00:00)] were greater than the threshold (1.0) (minimum 2 datapoints
/// for OK -> ALARM transition)."
public enum StateReason {
    public static func text(
        for evaluation: AlarmEvaluation, alarm: MetricAlarm, from oldState: AlarmState, to newState: AlarmState
    ) -> String {
        let n = alarm.evaluationPeriods
        let m = alarm.datapointsToAlarm
        let threshold = number(alarm.threshold)
        let treated = alarm.treatMissingData.reasonName
        if evaluation.lowSampleCount {
            return
                "Insufficient samples: a percentile period had fewer than \(number(alarm.lowSampleCountLimit ?? 0)) samples; the state is kept."
        }
        switch newState {
        case .insufficientData:
            return "Insufficient Data: \(count(evaluation.filled, "datapoint")) \(verb(evaluation.filled)) unknown."
        case .alarm, .ok:
            let wantBreaching = newState == .alarm
            let matching = evaluation.evaluated.filter {
                alarm.comparison.breaches($0.value!, alarm.threshold) == wantBreaching
            }
            let minimum = wantBreaching ? m : n - m + 1
            let transition =
                "(minimum \(count(minimum, "datapoint")) for \(oldState.rawValue) -> \(newState.rawValue) transition)"
            if evaluation.evaluated.isEmpty {
                return "Threshold Crossed: no datapoints were received for \(count(n, "period")) and "
                    + "\(count(evaluation.filled, "missing datapoint")) \(verb(evaluation.filled)) treated as [\(treated)]."
            }
            let negation = wantBreaching ? "" : "not "
            let list = matching.reversed().map { "\(number($0.value!)) (\(date($0.timestamp)))" }.joined(
                separator: ", ")
            var text =
                "Threshold Crossed: \(matching.count) out of the last \(n) datapoints [\(list)] "
                + "\(verb(matching.count)) \(negation)\(alarm.comparison.phrase) the threshold (\(threshold))"
            if evaluation.premature {
                text +=
                    " and the other datapoints were missing; the oldest breaching datapoint is at least \(count(m, "period")) old"
            } else if evaluation.filled > 0 {
                let how = [.missing, .ignore].contains(alarm.treatMissingData) ? "unknown" : "treated as [\(treated)]"
                text += " and \(count(evaluation.filled, "missing datapoint")) \(verb(evaluation.filled)) \(how)"
            }
            return text + " " + transition + "."
        }
    }

    /// A value as CloudWatch prints it: always with a fraction ("5.0").
    public static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(format: "%.1f", value) }
        return "\(value)"
    }

    /// `dd/MM/yy HH:mm:ss` in UTC, as in CloudWatch's reasons.
    public static func date(_ epoch: Int64) -> String {
        var t = time_t(epoch)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%02d/%02d/%02d %02d:%02d:%02d", parts.tm_mday, parts.tm_mon + 1, parts.tm_year % 100,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    static func verb(_ n: Int) -> String { n == 1 ? "was" : "were" }
}
