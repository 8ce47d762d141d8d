/// One period of an alarm's evaluation range: its start and the statistic's value, nil when the period has no data.
public struct EvaluationDatapoint: Sendable, Equatable {
    /// Epoch seconds at the start of the period.
    public var timestamp: Int64
    public var value: Double?
    /// Samples behind `value` (for the low-sample-count rule of percentile alarms).
    public var sampleCount: Double

    public init(timestamp: Int64, value: Double?, sampleCount: Double = 1) {
        self.timestamp = timestamp
        self.value = value
        self.sampleCount = value == nil ? 0 : sampleCount
    }
}
