import PlumbMetrics

/// Where an alarm's datapoints come from: the metric store in the server, recorded series in `plumb test-alarms`.
public protocol AlarmDataSource: Sendable {
    /// The alarm's statistic for each of the `count` periods ending at `end` (exclusive), oldest first;
    /// `value == nil` for a period without data.
    func datapoints(for alarm: MetricAlarm, count: Int, end: Int64) async throws -> [EvaluationDatapoint]
}

extension AlarmDataSource {
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

    public func datapoints(for alarm: MetricAlarm, count: Int, end: Int64) async throws -> [EvaluationDatapoint] {
        let start = end - Int64(count) * alarm.period
        let points = try await store.statistics(StatisticsQuery(
            series: alarm.series, period: alarm.period, start: start, end: end, statistics: [alarm.statistic]))
        var found: [Int64: Aggregate] = [:]
        for point in points { found[point.timestamp] = point.aggregate }
        return Self.layout(found, alarm: alarm, count: count, end: end)
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

    public func datapoints(for alarm: MetricAlarm, count: Int, end: Int64) async throws -> [EvaluationDatapoint] {
        let start = end - Int64(count) * alarm.period
        var found: [Int64: Aggregate] = [:]
        for sample in samples where sample.series == alarm.series && sample.timestamp >= start && sample.timestamp < end {
            let bucket = start + (sample.timestamp - start) / alarm.period * alarm.period
            found[bucket, default: Aggregate()].add(sample.value)
        }
        return Self.layout(found, alarm: alarm, count: count, end: end)
    }
}
