extension AlarmDataSource {
    /// What an alarm chart shows for an evaluation at `time`: `chartPeriods` periods of the watched value (the
    /// returned expression for metric math) ending where that evaluation's range ends.
    public func chartDatapoints(for alarm: MetricAlarm, at time: Int64) async throws -> [EvaluationDatapoint] {
        try await datapoints(for: alarm, count: alarm.chartPeriods, end: alarm.evaluationEnd(at: time))
    }
}
