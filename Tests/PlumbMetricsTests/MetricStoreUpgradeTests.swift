import Foundation
import GRDB
import PlumbAPI
import PlumbStore
import PlumbTesting
import Testing

@testable import PlumbMetrics

/// A data directory written by the release before compressed chunks (schema `metrics-v1`: aggregated `points` and a
/// `journal` table of not yet flushed requests) opens in this one with every datapoint, counted.
@Suite("Metric store upgrade in place")
struct MetricStoreUpgradeTests {
    static let now: Int64 = 1_795_000_000

    @Test("every datapoint of the previous release's layout is there after the upgrade, and after a flush and reopen")
    func previousRelease() async throws {
        let dir = TemporaryDirectory()
        let clock = TestClock(Self.now)
        let expected: [SeriesKey: (count: Double, sum: Double)]
        do {
            // The previous release's store, as it left it: flushed points and a journal of recent requests.
            let old = try SQLiteStore(path: dir.path + "/metrics.sqlite", migrations: [MetricStore.migrations[0]])
            expected = try await old.pool.write { db in
                var rng = SeededGenerator(seed: 22)
                var expected: [SeriesKey: (count: Double, sum: Double)] = [:]
                for n in 0..<40 {
                    let key = SeriesKey(namespace: "Old/App", name: "Latency", dimensions: ["Host": "h\(n)"])
                    try db.execute(
                        sql: "INSERT INTO series (id, namespace, name, dims, unit) VALUES (?, ?, ?, ?, ?)",
                        arguments: [n + 1, key.namespace, key.name, key.dimensionsText, "Milliseconds"])
                    var total = (count: 0.0, sum: 0.0)
                    for minute in 0..<90 {
                        var bucket = Aggregate()
                        for _ in 0..<Int.random(in: 1...12, using: &rng) {
                            bucket.add(Double(Int.random(in: 1...500_000, using: &rng)) / 1_000)
                        }
                        total.count += bucket.count
                        total.sum += bucket.sum
                        try db.execute(
                            sql:
                                "INSERT INTO points (series, res, ts, count, sum, min, max, dist) VALUES (?, 60, ?, ?, ?, ?, ?, ?)",
                            arguments: [
                                n + 1, Self.now - 7_200 + Int64(minute) * 60, bucket.count, bucket.sum, bucket.min,
                                bucket.max, bucket.encodedDistribution().map { Data($0) },
                            ])
                    }
                    var recent: [ResolvedSample] = []
                    for i in 0..<25 {
                        let value = Double(i) * 1.5
                        recent.append(
                            ResolvedSample(
                                series: Int64(n + 1), timestamp: Self.now - 300 + Int64(i), resolution: 1,
                                value: .single(value)))
                        total.count += 1
                        total.sum += value
                    }
                    recent.append(
                        ResolvedSample(
                            series: Int64(n + 1), timestamp: Self.now - 100, resolution: 60,
                            value: .statistics(count: 10, sum: 55, min: 1, max: 10)))
                    total.count += 10
                    total.sum += 55
                    try db.execute(
                        sql: "INSERT INTO journal (body) VALUES (?)", arguments: [Data(JournalCodec.encode(recent))])
                    expected[key] = total
                }
                try db.execute(sql: "UPDATE meta SET value = 7 WHERE key = 'flushed_generation'")
                return expected
            }
        }
        func check(_ store: MetricStore, _ moment: String) async throws {
            #expect(store.listMetrics(namespace: "Old/App", name: nil).count == expected.count, "\(moment)")
            var samples = 0.0
            for (key, total) in expected {
                let points = try await store.statistics(
                    StatisticsQuery(
                        series: key, period: 86_400, start: Self.now - 86_400, end: Self.now + 60,
                        statistics: [.sampleCount, .sum]))
                let count = points.reduce(0) { $0 + $1.aggregate.count }
                let sum = points.reduce(0) { $0 + $1.aggregate.sum }
                #expect(count == total.count, "\(moment): \(key.dimensionsText)")
                #expect(abs(sum - total.sum) < 1e-6 * total.sum, "\(moment): \(key.dimensionsText)")
                samples += count
            }
            #expect(store.seriesInfo(expected.keys.first!)?.unit == .milliseconds)
            print("upgrade test (\(moment)): \(Int(samples)) datapoints in \(expected.count) series, all counted")
        }
        do {
            let upgraded = try MetricStore(directory: dir.path, clock: clock.closure)
            try await check(upgraded, "opened after the upgrade")
            try await upgraded.flush()
            try await check(upgraded, "after the first flush")
            let left = try await upgraded.database.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM journal")
            }
            #expect(left == 0, "the old journal table is drained by the first flush")
        }
        do {
            let reopened = try MetricStore(directory: dir.path, clock: clock.closure)
            try await check(reopened, "reopened")
        }
        dir.remove()
    }
}
