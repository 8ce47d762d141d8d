import Foundation
import PlumbAPI
import PlumbMetrics
import PlumbTesting
import Testing

@Suite("Statistics against an independent computation")
struct StatisticsTests {
    let series = SeriesKey(namespace: "Test/Stats", name: "Latency", dimensions: ["Function": "f"])

    func randomSamples(count: Int, from start: Int64, span: Int64, seed: UInt64) -> [(ts: Int64, value: Double)] {
        ReferenceStatistics.randomSamples(count: count, from: start, span: span, seed: seed)
    }

    func put(
        _ samples: [(ts: Int64, value: Double)], into store: MetricStore, resolution: StorageResolution = .high
    ) async throws {
        for chunk in stride(from: 0, to: samples.count, by: 500) {
            let part = samples[chunk..<min(chunk + 500, samples.count)]
            try await store.put(
                part.map { Sample(series: series, timestamp: $0.ts, resolution: resolution, value: .single($0.value)) })
        }
    }

    static let percentiles: [Double] = [50, 90, 99, 99.9]

    func check(
        _ store: MetricStore, _ samples: [(ts: Int64, value: Double)], period: Int64, start: Int64, end: Int64
    ) async throws {
        let stats: [Statistic] =
            [.sampleCount, .sum, .average, .minimum, .maximum] + Self.percentiles.map { .percentile($0) }
        let got = try await store.statistics(
            StatisticsQuery(series: series, period: period, start: start, end: end, statistics: stats))
        let expected = ReferenceStatistics.periods(samples, period: period, start: (start / period) * period, end: end)
        #expect(got.map(\.timestamp) == expected.keys.sorted(), "period \(period): datapoint times differ")
        for point in got {
            guard let ref = expected[point.timestamp] else { continue }
            #expect(point.values[.sampleCount] == ref.count, "period \(period) at \(point.timestamp)")
            #expect(
                abs(point.values[.sum]! - ref.sum) <= 1e-9 * max(1, abs(ref.sum)) + 1e-6, "sum at \(point.timestamp)")
            #expect(abs(point.values[.average]! - ref.sum / ref.count) <= 1e-9 * max(1, abs(ref.sum)), "average")
            #expect(point.values[.minimum] == ref.min)
            #expect(point.values[.maximum] == ref.max)
            for p in Self.percentiles {
                let exact = ref.percentile(p)
                let estimate = point.values[.percentile(p)]!
                if point.aggregate.percentilesAreExact {
                    #expect(estimate == exact, "p\(p) period \(period) at \(point.timestamp) should be exact")
                } else {
                    #expect(
                        abs(estimate - exact) <= Sketch.relativeAccuracy * abs(exact) * (1 + 1e-9),
                        "p\(p) period \(period) at \(point.timestamp): \(estimate) vs \(exact)")
                }
            }
        }
    }

    @Test("every period size, from the head, from disk and from both")
    func everyPeriod() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(1_795_000_000)
        let store = try MetricStore(directory: dir.path, clock: clock.closure)
        let start = clock.now - 7_200
        let first = randomSamples(count: 6_000, from: start, span: 7_200, seed: 1)
        try await put(first, into: store)
        for period: Int64 in [1, 10, 30, 60, 120, 300, 3_600] {
            try await check(store, first, period: period, start: start, end: clock.now + 1)
        }
        try await store.flush()
        let second = randomSamples(count: 6_000, from: start, span: 7_200, seed: 2)
        try await put(second, into: store)
        for period: Int64 in [1, 10, 30, 60, 300, 3_600] {
            try await check(store, first + second, period: period, start: start, end: clock.now + 1)
        }
        // Reopen: the journal is replayed, nothing is lost or counted twice.
        let reopened = try MetricStore(directory: dir.path, clock: clock.closure)
        try await check(reopened, first + second, period: 60, start: start, end: clock.now + 1)
    }

    @Test("statistics stay correct across every rollup tier, and data past 455 days expires")
    func acrossRollups() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(1_795_003_600)
        let store = try MetricStore(directory: dir.path, clock: clock.closure)
        // Five hours of 1-second data: the older two hours cross the 3-hour boundary.
        let start = clock.now - 5 * 3_600
        let samples = randomSamples(count: 8_000, from: start, span: 5 * 3_600, seed: 3)
        try await put(samples, into: store)
        let report = try await store.rollup()
        #expect(report.rolledUp > 0, "1-second buckets older than 3 h are rolled into 60-second buckets")
        for period: Int64 in [60, 300, 3_600] {
            try await check(store, samples, period: period, start: start, end: clock.now + 1)
        }
        // 16 days later the 60-second buckets roll into 5-minute buckets.
        clock.advance(by: 16 * 86_400)
        #expect(try await store.rollup().rolledUp > 0)
        for period: Int64 in [300, 3_600] {
            try await check(store, samples, period: period, start: start, end: clock.now + 1)
        }
        // 64 days: 5-minute buckets roll into hours.
        clock.advance(by: 48 * 86_400)
        #expect(try await store.rollup().rolledUp > 0)
        try await check(store, samples, period: 3_600, start: start, end: clock.now + 1)
        // 456 days: gone.
        clock.advance(by: 392 * 86_400)
        let last = try await store.rollup()
        #expect(last.expired > 0)
        let left = try await store.statistics(
            StatisticsQuery(
                series: series, period: 3_600, start: start - 3_600, end: clock.now, statistics: [.sampleCount]))
        #expect(left.isEmpty)
    }

    @Test("a bucket past the raw-value limit keeps percentiles within the documented 1 % bound")
    func sketchBound() async throws {
        var rng = SeededGenerator(seed: 9)
        var aggregate = Aggregate()
        var values: [Double] = []
        for _ in 0..<20_000 {
            let v = exp(Double.random(in: -10...12, using: &rng))
            values.append(v)
            aggregate.add(v)
        }
        #expect(!aggregate.percentilesAreExact)
        let reference = ReferenceStatistics.Point(values: values)
        for p in [0.1, 1, 25, 50, 75, 90, 99, 99.9, 100] {
            let exact = reference.percentile(p)
            let estimate = aggregate.percentile(p)!
            #expect(
                abs(estimate - exact) <= Sketch.relativeAccuracy * exact * (1 + 1e-9), "p\(p): \(estimate) vs \(exact)")
        }
    }

    @Test("statistic sets add to count, sum, min and max but give no percentiles")
    func statisticSets() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(1_795_000_020)
        let store = try MetricStore(directory: dir.path, clock: clock.closure)
        try await store.put([
            Sample(series: series, timestamp: clock.now, value: .statistics(count: 10, sum: 100, min: 1, max: 30)),
            Sample(series: series, timestamp: clock.now, value: .values([5, 7], counts: [2, 3])),
        ])
        let points = try await store.statistics(
            StatisticsQuery(
                series: series, period: 60, start: clock.now - 60, end: clock.now + 1,
                statistics: [.sampleCount, .sum, .minimum, .maximum, .percentile(50)]))
        #expect(points.count == 1)
        #expect(points[0].values[.sampleCount] == 15)
        let sum = try #require(points[0].values[.sum])
        #expect(sum == 131, "sum \(sum.bitPattern)")
        #expect(points[0].values[.minimum] == 1)
        #expect(points[0].values[.maximum] == 30)
        #expect(points[0].values[.percentile(50)] == nil)
    }
}
