import Foundation
import PlumbAPI
import PlumbMetrics

extension AlarmDefinition {
    /// Fills in what a notification (and the alarm page) says about the alarm itself: a metric alarm's metric, or a
    /// metric-math alarm's queries with the returned one marked (never a made-up single metric), its threshold and
    /// periods; a composite's rule.
    public func describe(_ message: inout AlarmMessage) {
        switch self {
        case .metric(let a):
            message.alarmDescription = a.description
            if let queries = a.metrics {
                message.metric = nil
                message.metrics = queries.map { q in
                    switch q.source {
                    case .metric(let series, let statistic):
                        AlarmMessage.Query(
                            id: q.id, label: q.label,
                            metric: .init(
                                namespace: series.namespace, name: series.name, dimensions: series.dimensionDictionary,
                                statistic: statistic.description, period: a.period),
                            returned: q.returnData)
                    case .expression(_, let text):
                        AlarmMessage.Query(id: q.id, label: q.label, expression: text, returned: q.returnData)
                    }
                }
            } else {
                message.metric = .init(
                    namespace: a.series.namespace, name: a.series.name, dimensions: a.series.dimensionDictionary,
                    statistic: a.statistic.description, period: a.period)
            }
            message.period = a.period
            message.comparison = a.comparison.rawValue
            message.threshold = a.threshold
            message.evaluationPeriods = a.evaluationPeriods
            message.datapointsToAlarm = a.datapointsToAlarm
        case .composite(let a):
            message.alarmDescription = a.description
            message.rule = a.ruleText
        }
    }
}

extension MetricAlarm {
    /// `points` (oldest first, ending where an evaluation's range ends) as a notification's chart datapoints: each
    /// marked breaching when beyond the threshold, and evaluated when in the newest `evaluationRange` periods.
    public func messageDatapoints(_ points: [EvaluationDatapoint]) -> [AlarmMessage.Datapoint] {
        // JSON has no NaN or infinity (a metric-math division by zero): such a period is shown as without data.
        chart(points).points.map { p in
            AlarmMessage.Datapoint(
                timestamp: TimeParsing.format(p.timestamp), value: p.value, breaching: p.breaching,
                evaluated: p.evaluated)
        }
    }

    /// The chart of `points`: each period breaching when beyond the threshold, evaluated when in the newest
    /// `evaluationRange` periods; a value that is not finite counts as no data.
    public func chart(_ points: [EvaluationDatapoint]) -> AlarmChart {
        let firstEvaluated = points.count - evaluationRange
        return AlarmChart(
            points: points.enumerated().map { i, p in
                let value = p.value.flatMap { $0.isFinite ? $0 : nil }
                return AlarmChart.Point(
                    timestamp: p.timestamp, value: value,
                    breaching: value.map { comparison.breaches($0, threshold) } ?? false,
                    evaluated: i >= firstEvaluated)
            },
            threshold: threshold, period: period)
    }
}
