import Foundation
import PlumbAPI

/// GetMetricStatistics: one series, a period, a time range and the statistics wanted.
public struct StatisticsQuery: Sendable {
    public var series: SeriesKey
    /// Seconds: 1, 10, 30 or a multiple of 60.
    public var period: Int64
    /// Epoch seconds, inclusive; aligned down to the period.
    public var start: Int64
    /// Epoch seconds, exclusive.
    public var end: Int64
    public var statistics: [Statistic]

    public init(series: SeriesKey, period: Int64, start: Int64, end: Int64, statistics: [Statistic]) {
        self.series = series
        self.period = period
        self.start = start
        self.end = end
        self.statistics = statistics
    }

    /// Most datapoints one query may return (CloudWatch GetMetricData: 100,800).
    public static let maxDatapoints: Int64 = 100_800

    /// The longest period: 455 days, the longest retention (CloudWatch keeps 1-hour data that long).
    public static let maxPeriod: Int64 = 455 * 86_400

    public func validate() throws {
        guard [1, 10, 30].contains(period) || (period > 0 && period % 60 == 0 && period <= Self.maxPeriod) else {
            throw MetricsError.invalid(
                "period \(period) must be 1, 10, 30 or a multiple of 60 seconds up to \(Self.maxPeriod)")
        }
        let bound = Int64(Checked.maxEpochSeconds)
        guard (-bound...bound).contains(start), (-bound...bound).contains(end) else {
            throw MetricsError.invalid("start and end must be within ±\(bound) epoch seconds")
        }
        guard end > start else { throw MetricsError.invalid("end must be after start") }
        guard (end - start) / period <= Self.maxDatapoints else {
            throw MetricsError.invalid(
                "start, end, period: the range holds more than \(Self.maxDatapoints) periods; use a longer period or a shorter range"
            )
        }
        guard !statistics.isEmpty else { throw MetricsError.missing("at least one statistic is required") }
    }
}

/// One period's statistics.
public struct Datapoint: Sendable, Equatable {
    public var timestamp: Int64
    public var values: [Statistic: Double]
    public var aggregate: Aggregate
}

extension MetricStoring {
    /// Statistics per period, oldest first; periods without data are absent (as CloudWatch).
    public func statistics(_ query: StatisticsQuery) async throws -> [Datapoint] {
        try query.validate()
        let period = query.period
        let request = AggregateRequest(
            series: query.series, period: period, start: floorDiv(query.start, period) * period, end: query.end,
            distribution: query.statistics.contains(where: \.needsDistribution))
        guard let periods = try await periodSeries([request]).first else { return [] }
        return zip(periods.starts, periods.aggregates).map { ts, aggregate in
            var values: [Statistic: Double] = [:]
            for statistic in query.statistics {
                if let v = statistic.value(of: aggregate) { values[statistic] = v }
            }
            return Datapoint(timestamp: ts, values: values, aggregate: aggregate)
        }
    }
}

/// One series, one period, one range [start, end) of an aggregate read.
public struct AggregateRequest: Sendable, Hashable {
    public var series: SeriesKey
    public var period: Int64
    public var start: Int64
    public var end: Int64
    /// Whether the periods' percentiles are wanted. When false a backend may keep only count, sum and extremes
    /// (the periods then report no distribution: `hasDistribution` is false, percentiles nil).
    public var distribution: Bool

    public init(series: SeriesKey, period: Int64, start: Int64, end: Int64, distribution: Bool = true) {
        self.series = series
        self.period = period
        self.start = start
        self.end = end
        self.distribution = distribution
    }
}

/// `a / b` rounded towards negative infinity (`b` > 0), for any `a`.
@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    Checked.floorDivision(a, b)
}
