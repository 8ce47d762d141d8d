import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import Testing

@Suite struct StateReasonTests {
    @Test func thresholdCrossedTextMatchesCloudWatch() {
        let alarm = MetricAlarm(
            name: "t", series: SeriesKey(namespace: "T", name: "m"), statistic: .sum, period: 60,
            evaluationPeriods: 3, datapointsToAlarm: 2, comparison: .greaterThanThreshold, threshold: 1)
        // 22/11/26 10:00:00 UTC
        let t0: Int64 = 1_795_341_600
        let range = [nil, 0, 5, nil, 5].enumerated().map {
            EvaluationDatapoint(timestamp: t0 - 120 + Int64($0.offset) * 60, value: $0.element)
        }
        let evaluation = AlarmEvaluator.evaluate(alarm, range: range)
        #expect(evaluation.outcome == .state(.alarm))
        let text = StateReason.text(for: evaluation, alarm: alarm, from: .ok, to: .alarm)
        #expect(
            text
                == "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (22/11/26 10:02:00), 5.0 (22/11/26 10:00:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
        )
    }

    @Test func insufficientDataText() {
        let alarm = MetricAlarm(
            name: "t", series: SeriesKey(namespace: "T", name: "m"), statistic: .sum, period: 60,
            evaluationPeriods: 1, comparison: .greaterThanThreshold, threshold: 1)
        let evaluation = AlarmEvaluator.evaluate(
            alarm, range: (0..<3).map { EvaluationDatapoint(timestamp: Int64($0) * 60, value: nil) })
        #expect(
            StateReason.text(for: evaluation, alarm: alarm, from: .ok, to: .insufficientData)
                == "Insufficient Data: 1 datapoint was unknown.")
    }
}
