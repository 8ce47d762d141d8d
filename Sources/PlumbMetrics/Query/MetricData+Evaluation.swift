import Foundation
import PlumbAPI

/// One returned result: the values per period, oldest first, missing periods absent.
public struct MetricDataResult: Sendable, Equatable, MetricDataTimes {
    public var id: String
    public var label: String
    public var timestamps: [Int64]
    public var values: [Double]
}

/// GetMetricData's evaluation (the queries, their checks and their decoding are PlumbAPI's `MetricData`).
extension MetricData {
    /// Evaluates validated queries on `grid` (the period starts of the range) with `fetch` giving each metric
    /// query's values; returns the results of the queries with `returnData`, in request order.
    public static func evaluate(
        _ queries: [MetricDataQuery], grid: [Int64], metrics: [String: [Int64: Double]]
    ) throws -> [MetricDataResult] {
        let ordered = try validate(queries)
        var values: [String: MetricMath.Value] = [:]
        for q in ordered {
            switch q.source {
            case .metric: values[q.id] = .series(metrics[q.id] ?? [:])
            case .expression(let e, let text):
                do {
                    values[q.id] = try MetricMath.evaluate(e, grid: grid) { id in values[id] ?? .series([:]) }
                } catch let error as MetricMath.EvaluationError {
                    throw MetricsError.invalid("expression \(q.id) (\(text)): \(error.message)")
                }
            }
        }
        return try queries.filter(\.returnData).map { q in
            let points: [Int64: Double]
            switch values[q.id] ?? .series([:]) {
            case .series(let s): points = s
            case .scalar(let x): points = Dictionary(uniqueKeysWithValues: grid.map { ($0, x) })
            case .list: throw MetricsError.invalid("expression \(q.id) gives a list; wrap it in SUM, AVG, MAX or MIN")
            }
            let times = points.keys.filter { t in grid.first.map { t >= $0 } ?? true }.sorted()
            return MetricDataResult(
                id: q.id, label: q.label ?? Self.defaultLabel(q), timestamps: times, values: times.map { points[$0]! })
        }
    }

    static func defaultLabel(_ q: MetricDataQuery) -> String {
        switch q.source {
        case .metric(let series, let stat): "\(series.name) \(stat.description)"
        case .expression(_, let text): text
        }
    }
}

extension MetricStoring {
    /// GetMetricData: every metric query read in one transaction, then the expressions.
    public func metricData(
        _ queries: [MetricDataQuery], start: Int64, end: Int64, period: Int64
    ) async throws -> [MetricDataResult] {
        try StatisticsQuery(
            series: SeriesKey(namespace: "x", name: "x", dimensions: []), period: period, start: start, end: end,
            statistics: [.sum]
        ).validate()
        _ = try MetricData.validate(queries)
        let first = floorDiv(start, period) * period
        let grid = Array(stride(from: first, to: end, by: Int(period)))
        let metricQueries = queries.compactMap { q -> (String, SeriesKey, Statistic)? in
            if case .metric(let s, let stat) = q.source { return (q.id, s, stat) }
            return nil
        }
        // One read per distinct series: several statistics of a metric are several queries of the same periods.
        // The distribution is read only for a series whose queries ask a percentile.
        var distinct: [SeriesKey: Int] = [:]
        var series: [SeriesKey] = []
        var distribution: [Bool] = []
        for (_, key, statistic) in metricQueries {
            let percentile: Bool
            if case .percentile = statistic { percentile = true } else { percentile = false }
            if let index = distinct[key] {
                distribution[index] = distribution[index] || percentile
            } else {
                distinct[key] = series.count
                series.append(key)
                distribution.append(percentile)
            }
        }
        let found = try await periodSeries(
            zip(series, distribution).map {
                AggregateRequest(series: $0, period: period, start: first, end: end, distribution: $1)
            })
        // Without expressions each result is its series' periods, oldest first, with the statistic's value.
        if metricQueries.count == queries.count {
            return queries.filter(\.returnData).map { q in
                guard case .metric(let key, let statistic) = q.source else {
                    preconditionFailure("metric queries only")
                }
                let periods = found[distinct[key]!]
                var timestamps: [Int64] = []
                var values: [Double] = []
                timestamps.reserveCapacity(periods.starts.count)
                values.reserveCapacity(periods.starts.count)
                for (t, aggregate) in zip(periods.starts, periods.aggregates) where t >= first {
                    guard let v = statistic.value(of: aggregate) else { continue }
                    timestamps.append(t)
                    values.append(v)
                }
                return MetricDataResult(
                    id: q.id, label: q.label ?? MetricData.defaultLabel(q), timestamps: timestamps, values: values)
            }
        }
        var metrics: [String: [Int64: Double]] = [:]
        for (id, key, statistic) in metricQueries {
            let periods = found[distinct[key]!]
            var values: [Int64: Double] = [:]
            for (t, aggregate) in zip(periods.starts, periods.aggregates) {
                if let v = statistic.value(of: aggregate) { values[t] = v }
            }
            metrics[id] = values
        }
        return try MetricData.evaluate(queries, grid: grid, metrics: metrics)
    }
}
