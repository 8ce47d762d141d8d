import PlumbAPI
import PlumbMetrics

/// Where an alarm's datapoints come from: the metric store in the server, recorded series in `plumb test-alarms`.
public protocol AlarmDataSource: Sendable {
    /// Per-period aggregates for each request (keyed by period start; periods without data absent), read
    /// together: a tick asks for thousands of short ranges.
    func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]]
}

extension AlarmDataSource {
    /// The alarm's watched value for each of the `count` periods ending at `end` (exclusive), oldest first;
    /// `value == nil` for a period without data. For a metric-math alarm, the value of its returned expression.
    public func datapoints(for alarm: MetricAlarm, count: Int, end: Int64) async throws -> [EvaluationDatapoint] {
        if let queries = alarm.metrics {
            return try await mathDatapoints(queries, alarm: alarm, count: count, end: end)
        }
        let request = AggregateRequest(
            series: alarm.series, period: alarm.period, start: end - Int64(count) * alarm.period, end: end)
        let found = try await aggregates([request]).first ?? [:]
        return Self.layout(found, alarm: alarm, count: count, end: end)
    }

    /// Metric math: the metrics read together, the expressions evaluated on the periods, the returned series laid
    /// onto them (a period without a value is missing).
    func mathDatapoints(
        _ queries: [MetricDataQuery], alarm: MetricAlarm, count: Int, end: Int64
    ) async throws -> [EvaluationDatapoint] {
        let start = end - Int64(count) * alarm.period
        let grid = Array(stride(from: start, to: end, by: Int(alarm.period)))
        let metricQueries = queries.compactMap { q -> (String, SeriesKey, Statistic)? in
            if case .metric(let series, let statistic) = q.source { return (q.id, series, statistic) }
            return nil
        }
        let found = try await aggregates(
            metricQueries.map { AggregateRequest(series: $0.1, period: alarm.period, start: start, end: end) })
        var metrics: [String: [Int64: Double]] = [:]
        for ((id, _, statistic), periods) in zip(metricQueries, found) {
            metrics[id] = periods.compactMapValues { statistic.value(of: $0) }
        }
        let result = try MetricData.evaluate(queries, grid: grid, metrics: metrics).first
        let points = Dictionary(
            zip(result?.timestamps ?? [], result?.values ?? []), uniquingKeysWith: { first, _ in first })
        return grid.map { EvaluationDatapoint(timestamp: $0, value: points[$0]) }
    }

    /// Lays `found` (timestamp → aggregate) onto the `count` periods ending at `end`.
    static func layout(
        _ found: [Int64: Aggregate], alarm: MetricAlarm, count: Int, end: Int64
    ) -> [EvaluationDatapoint] {
        (0..<count).map { i in
            let ts = end - Int64(count - i) * alarm.period
            guard let aggregate = found[ts], let value = alarm.statistic.value(of: aggregate) else {
                return EvaluationDatapoint(timestamp: ts, value: nil)
            }
            return EvaluationDatapoint(timestamp: ts, value: value, sampleCount: aggregate.count)
        }
    }
}

/// Reads alarm datapoints from the metric store (head and points, as a statistics query would).
public struct MetricStoreDataSource: AlarmDataSource {
    public let store: any MetricStoring

    public init(store: any MetricStoring) { self.store = store }

    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        try await store.aggregates(requests)
    }
}

/// Samples held in memory: `plumb test-alarms` and tests.
public struct RecordedSeries: AlarmDataSource {
    public struct Sample: Sendable {
        public var series: SeriesKey
        public var timestamp: Int64
        public var value: Double

        public init(series: SeriesKey, timestamp: Int64, value: Double) {
            self.series = series
            self.timestamp = timestamp
            self.value = value
        }
    }

    public var samples: [Sample]

    public init(samples: [Sample] = []) { self.samples = samples }

    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        requests.map { r in
            var found: [Int64: Aggregate] = [:]
            for sample in samples
            where sample.series == r.series && sample.timestamp >= r.start && sample.timestamp < r.end {
                found[r.start + (sample.timestamp - r.start) / r.period * r.period, default: Aggregate()].add(
                    sample.value)
            }
            return found
        }
    }
}
