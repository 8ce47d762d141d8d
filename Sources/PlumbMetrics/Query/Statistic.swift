import PlumbAPI

extension Statistic {
    /// The value of this statistic over `aggregate`, nil when it cannot be computed (percentiles of statistic sets).
    /// Whether a period's distribution is needed to compute it (percentiles); the others come from count, sum and
    /// extremes, which a backend may read far more cheaply.
    public var needsDistribution: Bool {
        if case .percentile = self { true } else { false }
    }

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
