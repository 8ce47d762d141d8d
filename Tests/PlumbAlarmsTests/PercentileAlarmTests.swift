import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbTesting
import Testing

/// Percentile alarms read the metric store exactly as a statistics query does.
@Suite struct PercentileAlarmTests {
    static func alarm(_ statistic: String, threshold: Double, evaluateLow: Bool = true) -> MetricAlarm {
        MetricAlarm(
            name: "p", series: SeriesKey(namespace: "T", name: "latency"), statistic: Statistic(statistic)!, period: 60,
            evaluationPeriods: 2, comparison: .greaterThanThreshold, threshold: threshold,
            evaluateLowSampleCountPercentile: evaluateLow)
    }

    @Test func percentileOverStoredSamples() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(1_800_000_000)
        let store = try MetricStore(directory: dir.path, durability: .normal, clock: clock.closure)
        let minute: Int64 = 1_800_000_000 - 120
        // Two minutes, each 1…50 ms (exact nearest rank below 64 distinct values): p50 = 25, p90 = 45, p99 = 50.
        var samples: [Sample] = []
        for m in 0..<2 {
            for v in 1...50 {
                samples.append(
                    Sample(
                        series: SeriesKey(namespace: "T", name: "latency"), unit: .milliseconds,
                        timestamp: minute + Int64(m) * 60 + Int64(v % 60), resolution: .standard,
                        value: .single(Double(v))))
            }
        }
        try await store.put(samples)
        let source = MetricStoreDataSource(store: store)
        for (statistic, threshold, expected) in [
            ("p90", 44.0, AlarmState.alarm), ("p90", 45.0, .ok), ("p99", 49.5, .alarm), ("p50", 25.0, .ok),
            ("p50", 24.0, .alarm),
        ] {
            let alarm = Self.alarm(statistic, threshold: threshold)
            let range = try await source.datapoints(for: alarm, count: alarm.evaluationRange, end: 1_800_000_000)
            #expect(range.compactMap(\.value).count == 2)
            #expect(
                AlarmEvaluator.evaluate(alarm, range: range).outcome == .state(expected), "\(statistic) > \(threshold)")
        }
        // Flushed from the head to disk, the data reads the same.
        try await store.flush()
        let alarm = Self.alarm("p90", threshold: 44)
        let range = try await source.datapoints(for: alarm, count: alarm.evaluationRange, end: 1_800_000_000)
        #expect(range.compactMap(\.value) == [45, 45])
    }

    @Test func lowSampleCountPercentilesCanBeIgnored() {
        // p99 needs 10/(1−0.99) = 1,000 samples; p10 needs 10/0.1 = 100.
        #expect(Self.alarm("p99", threshold: 1).lowSampleCountLimit.map { ($0 * 1e6).rounded() / 1e6 } == 1_000)
        #expect(Self.alarm("p10", threshold: 1).lowSampleCountLimit.map { ($0 * 1e6).rounded() / 1e6 } == 100)
        let range = [nil, nil, 5, 6].enumerated().map {
            EvaluationDatapoint(timestamp: Int64($0.offset) * 60, value: $0.element, sampleCount: 20)
        }
        let ignoring = AlarmEvaluator.evaluate(Self.alarm("p99", threshold: 1, evaluateLow: false), range: range)
        #expect(ignoring.outcome == .keepCurrent)
        #expect(ignoring.lowSampleCount)
        let evaluating = AlarmEvaluator.evaluate(Self.alarm("p99", threshold: 1), range: range)
        #expect(evaluating.outcome == .state(.alarm))
        let enough = [nil, nil, 5, 6].enumerated().map {
            EvaluationDatapoint(timestamp: Int64($0.offset) * 60, value: $0.element, sampleCount: 1_000)
        }
        #expect(
            AlarmEvaluator.evaluate(Self.alarm("p99", threshold: 1, evaluateLow: false), range: enough).outcome
                == .state(.alarm))
    }
}
