/// One series' periods that hold data, oldest first: each period's epoch-aligned start and its aggregate.
///
/// What a read produces in order anyway; `MetricStoring.aggregates` gives the same periods keyed by start.
public struct PeriodSeries: Sendable {
    public var starts: [Int64]
    public var aggregates: [Aggregate]

    public init(starts: [Int64] = [], aggregates: [Aggregate] = []) {
        precondition(starts.count == aggregates.count, "one aggregate a start")
        self.starts = starts
        self.aggregates = aggregates
    }

    /// The periods of a dictionary keyed by start, sorted.
    public init(_ periods: [Int64: Aggregate]) {
        let sorted = periods.sorted { $0.key < $1.key }
        self.init(starts: sorted.map(\.key), aggregates: sorted.map(\.value))
    }

    /// The periods keyed by start.
    public var dictionary: [Int64: Aggregate] { Dictionary(uniqueKeysWithValues: zip(starts, aggregates)) }
}
