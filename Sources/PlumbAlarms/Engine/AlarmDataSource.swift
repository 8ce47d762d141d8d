import PlumbMetrics

/// Where an alarm's datapoints come from: the metric store in the server, recorded series in `plumb test-alarms`.
public protocol AlarmDataSource: Sendable {
    /// Per-period aggregates for each request (keyed by period start; periods without data absent), read
    /// together: a tick asks for thousands of short ranges.
    func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]]
}

extension AlarmDataSource {
    /// The alarm's statistic for each of the `count` periods ending at `end` (exclusive), oldest first;
    /// `value == nil` for a period without data.
    public func datapoints(for alarm: MetricAlarm, count: Int, end: Int64) async throws -> [EvaluationDatapoint] {
        let request = AggregateRequest(series: alarm.series, period: alarm.period, start: end - Int64(count) * alarm.period, end: end)
        let found = try await aggregates([request]).first ?? [:]
        return Self.layout(found, alarm: alarm, count: count, end: end)
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
    public let store: MetricStore

    public init(store: MetricStore) { self.store = store }

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
            for sample in samples where sample.series == r.series && sample.timestamp >= r.start && sample.timestamp < r.end {
                found[r.start + (sample.timestamp - r.start) / r.period * r.period, default: Aggregate()].add(sample.value)
            }
            return found
        }
    }
}
