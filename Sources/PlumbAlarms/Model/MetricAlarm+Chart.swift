extension MetricAlarm {
    /// Periods an alarm chart shows: the evaluation range, widened to 20 periods for context, at most 400 (a
    /// notification carries them, and a day of 10-second periods would not fit a message).
    public var chartPeriods: Int { min(max(evaluationRange, 20), 400) }

    /// The end (exclusive) of the periods an evaluation at `time` reads: the start of the period `time` is in.
    public func evaluationEnd(at time: Int64) -> Int64 { floorDivide(time, period) * period }
}
