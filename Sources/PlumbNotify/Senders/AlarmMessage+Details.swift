import Foundation
import PlumbAPI

extension AlarmMessage {
    /// "The alarm is in the ALARM state when the metric is GreaterThanThreshold 5.0 for at least 2 of the last 3
    /// period(s) of 60 seconds." — for a metric-math alarm it names the returned expression instead of "the metric".
    public var thresholdSentence: String? {
        guard let comparison, let threshold, let n = evaluationPeriods, let m = datapointsToAlarm,
            let period = period ?? metric?.period
        else { return nil }
        var subject = "the metric"
        if let returned = metrics?.first(where: \.returned) {
            subject = "the expression \(returned.id)" + (returned.expression.map { " (\($0))" } ?? "")
        }
        return
            "The alarm is in the ALARM state when \(subject) is \(comparison) \(threshold) for at least \(m) of the last \(n) period(s) of \(period) seconds."
    }

    /// A single-metric alarm's metric as label/value rows; empty for metric math and composites.
    public var metricRows: [(String, String)] {
        guard let metric else { return [] }
        return [
            ("Namespace", metric.namespace), ("Metric name", metric.name),
            ("Dimensions", Self.dimensions(metric.dimensions)),
            ("Period", "\(metric.period) seconds"), ("Statistic", metric.statistic),
        ]
    }

    /// A metric-math alarm's queries as id/description rows, the returned one marked; empty otherwise.
    public var queryRows: [(String, String)] {
        (metrics ?? []).map { q in
            var text: String
            if let metric = q.metric {
                text = "namespace \(metric.namespace), metric \(metric.name)"
                if !metric.dimensions.isEmpty { text += ", dimensions \(Self.dimensions(metric.dimensions))" }
                text += ", statistic \(metric.statistic)"
            } else {
                text = "expression \(q.expression ?? "")"
            }
            if let label = q.label { text += ", label \"\(label)\"" }
            if q.returned { text += " — returned: the alarm watches this" }
            return (q.id, text)
        }
    }

    /// `Function = sentiment.classify, Region = eu`, sorted by name; `—` for none.
    public static func dimensions(_ dimensions: [String: String]) -> String {
        dimensions.isEmpty
            ? "—" : dimensions.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
    }
}
