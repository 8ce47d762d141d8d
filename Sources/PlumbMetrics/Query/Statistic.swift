import PlumbAPI

extension Statistic {
    /// The value of this statistic over `aggregate`, nil when it cannot be computed (percentiles of statistic sets).
    public func value(of aggregate: Aggregate) -> Double? {
        switch self {
        case .sampleCount: aggregate.count
        case .sum: aggregate.sum
        case .average: aggregate.average
        case .minimum: aggregate.min
        case .maximum: aggregate.max
        case .percentile(let p): aggregate.percentile(p)
        }
    }
}
