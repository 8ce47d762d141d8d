import Foundation
import PlumbAPI
import PlumbMetrics
import PlumbTesting
import PlumbVictoriaMetrics
import Testing

/// What every metric backend must do the same way, run against each one: the embedded SQLite store and a real
/// VictoriaMetrics node on loopback. A backend is opened fresh in a directory, written through the contract,
/// optionally settled (flushed, merged) and read back through the contract only.
@Suite("Metric store conformance")
struct MetricStoreConformanceTests {
    /// A backend under test: how to open it over a clock, and how to settle what it holds.
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// The store, and what must live as long as it (a peer process).
        let open: @Sendable (_ directory: String, _ clock: TestClock) async throws -> (any MetricStoring, AnyObject?)
        let settle: @Sendable (any MetricStoring) async throws -> Void
        var description: String { name }
    }

    static let backends: [Backend] = [
        Backend(
            name: "SQLite",
            open: { directory, clock in (try MetricStore(directory: directory, clock: clock.closure), nil) },
            settle: { store in try await (store as! MetricStore).flush() }),
        Backend(
            name: "VictoriaMetrics",
            open: { directory, clock in
                let node = try await VictoriaMetricsProcess(directory: directory + "/vm")
                let store = try await VictoriaMetricsStore.connect(
                    settings: VictoriaMetricsSettings(url: node.baseURL), clock: clock.closure)
                return (store, node)
            },
            // A write is searchable once acknowledged: nothing to settle.
            settle: { _ in }),
    ]

    static let series = SeriesKey(namespace: "Conformance", name: "Latency", dimensions: ["Function": "f"])
    static let now: Int64 = 1_795_000_000

    /// Opens `backend` in a temporary directory and runs `body` with it and the clock.
    func with(
        _ backend: Backend, _ body: (any MetricStoring, TestClock) async throws -> Void
    ) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(Self.now)
        let (store, peer) = try await backend.open(dir.path, clock)
        defer { withExtendedLifetime(peer) {} }
        try await body(store, clock)
    }

    /// Decimal values (two places) beside small integers: what gauges and latencies look like.
    static func randomSamples(count: Int, from start: Int64, span: Int64, seed: UInt64) -> [(ts: Int64, value: Double)]
    {
        ReferenceStatistics.randomSamples(count: count, from: start, span: span, seed: seed) { rng in
            (Double(Int.random(in: 1...99_999, using: &rng)) / 100) * (Bool.random(using: &rng) ? 1 : -1)
        }
    }

    static func singles(_ samples: [(ts: Int64, value: Double)]) -> [Sample] {
        samples.map { Sample(series: series, timestamp: $0.ts, resolution: .high, value: .single($0.value)) }
    }

    /// Every statistic of every period against the naive computation; percentiles exact where the store says so,
    /// within the sketch's bound elsewhere.
    func expectStatistics(
        _ store: any MetricStoring, _ samples: [(ts: Int64, value: Double)], period: Int64, start: Int64, end: Int64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let percentiles: [Double] = [50, 90, 99]
        let stats: [Statistic] =
            [.sampleCount, .sum, .average, .minimum, .maximum] + percentiles.map { .percentile($0) }
        let got = try await store.statistics(
            StatisticsQuery(series: Self.series, period: period, start: start, end: end, statistics: stats))
        let expected = ReferenceStatistics.periods(samples, period: period, start: (start / period) * period, end: end)
        #expect(got.map(\.timestamp) == expected.keys.sorted(), "period \(period)", sourceLocation: sourceLocation)
        for point in got {
            guard let ref = expected[point.timestamp] else { continue }
            #expect(point.values[.sampleCount] == ref.count, sourceLocation: sourceLocation)
            #expect(abs(point.values[.sum]! - ref.sum) <= 1e-9 * max(1, abs(ref.sum)), sourceLocation: sourceLocation)
            #expect(point.values[.minimum] == ref.min, sourceLocation: sourceLocation)
            #expect(point.values[.maximum] == ref.max, sourceLocation: sourceLocation)
            for p in percentiles {
                let exact = ref.percentile(p)
                let estimate = try #require(point.values[.percentile(p)], sourceLocation: sourceLocation)
                let bound = point.aggregate.percentilesAreExact ? 0 : Sketch.relativeAccuracy * abs(exact) * (1 + 1e-9)
                #expect(abs(estimate - exact) <= bound, "p\(p) at \(point.timestamp)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test(
        "statistics of every period size agree with a naive computation, before and after settling", arguments: backends
    )
    func statistics(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let start = clock.now - 7_200
            let first = Self.randomSamples(count: 4_000, from: start, span: 7_200, seed: 11)
            try await store.put(Self.singles(first))
            for period: Int64 in [1, 60, 300, 3_600] {
                try await expectStatistics(store, first, period: period, start: start, end: clock.now + 1)
            }
            try await backend.settle(store)
            let second = Self.randomSamples(count: 4_000, from: start, span: 7_200, seed: 12)
            try await store.put(Self.singles(second))
            for period: Int64 in [10, 60, 3_600] {
                try await expectStatistics(store, first + second, period: period, start: start, end: clock.now + 1)
            }
        }
    }

    @Test(
        "without percentiles, whole and partial periods agree with a naive computation (a backend may read them another way)",
        arguments: backends)
    func statisticsWithoutPercentiles(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let start = (clock.now / 3_600) * 3_600 - 7_200
            let samples = Self.randomSamples(count: 3_000, from: start, span: 7_200, seed: 21)
            try await store.put(Self.singles(samples))
            try await backend.settle(store)
            for (period, from, to) in [
                (Int64(1), start, start + 600), (60, start, start + 7_200), (300, start, start + 7_200),
                (3_600, start, start + 7_200), (60, start + 17, start + 7_183), (300, start + 150, start + 7_000),
            ] {
                let requests = [
                    AggregateRequest(series: Self.series, period: period, start: from, end: to, distribution: false)
                ]
                let got = try await store.aggregates(requests)[0]
                var expected: [Int64: (count: Double, sum: Double, min: Double, max: Double)] = [:]
                for (t, v) in samples where t >= from && t < to {
                    let key = (t / period) * period
                    let old = expected[key] ?? (0, 0, .infinity, -.infinity)
                    expected[key] = (old.count + 1, old.sum + v, min(old.min, v), max(old.max, v))
                }
                #expect(got.keys.sorted() == expected.keys.sorted(), "period \(period) from \(from - start)")
                for (key, want) in expected {
                    guard let have = got[key] else { continue }
                    #expect(have.count == want.count, "period \(period) at \(key - start)")
                    #expect(
                        abs(have.sum - want.sum) <= 1e-9 * max(1, abs(want.sum)), "period \(period) at \(key - start)")
                    #expect(have.min == want.min && have.max == want.max, "period \(period) at \(key - start)")
                }
            }
        }
    }

    @Test(
        "a period holds exactly its own seconds: [s, s + p), on both edges, with and without percentiles",
        arguments: backends)
    func periodEdges(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let s = (clock.now / 300) * 300 - 900
            // Just before, on the first second, on the last second, and on the next period's first second.
            try await store.put(Self.singles([(s - 1, 1), (s, 10), (s + 299, 100), (s + 300, 1_000)]))
            try await backend.settle(store)
            for distribution in [false, true] {
                let got = try await store.aggregates([
                    AggregateRequest(
                        series: Self.series, period: 300, start: s, end: s + 300, distribution: distribution),
                    AggregateRequest(
                        series: Self.series, period: 300, start: s - 300, end: s + 600, distribution: distribution),
                ])
                #expect(got[0].keys.sorted() == [s], "distribution \(distribution)")
                #expect(got[0][s]?.sum == 110 && got[0][s]?.count == 2, "distribution \(distribution)")
                #expect(got[1][s - 300]?.sum == 1, "distribution \(distribution)")
                #expect(got[1][s]?.sum == 110, "distribution \(distribution)")
                #expect(got[1][s + 300]?.sum == 1_000, "distribution \(distribution)")
            }
        }
    }

    @Test(
        "values with fractional counts and many distinct values: exact aggregates, percentiles within the sketch's bound",
        arguments: backends)
    func largeDistributions(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let t = (clock.now / 60) * 60 - 120
            let values = (1...150).map { Double($0) * 1.5 }
            let counts = (1...150).map { Double($0 % 7) + 0.5 }
            try await store.put([Sample(series: Self.series, timestamp: t + 3, value: .values(values, counts: counts))])
            try await backend.settle(store)
            let point = try #require(
                try await store.statistics(
                    StatisticsQuery(
                        series: Self.series, period: 60, start: t, end: t + 60,
                        statistics: [.sampleCount, .sum, .minimum, .maximum, .percentile(50), .percentile(99)])
                ).first)
            let total = counts.reduce(0, +)
            #expect(point.values[.sampleCount] == total)
            let sum = zip(values, counts).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(point.values[.sum]! - sum) <= 1e-9 * sum)
            #expect(point.values[.minimum] == 1.5 && point.values[.maximum] == 225)
            for p in [50.0, 99.0] {
                // Nearest rank over the weighted values.
                var seen = 0.0
                let rank = p * total / 100
                let exact = zip(values, counts).first {
                    seen += $0.1
                    return seen >= rank - 1e-9
                }!.0
                let estimate = try #require(point.values[.percentile(p)])
                #expect(
                    abs(estimate - exact) <= Sketch.relativeAccuracy * exact * (1 + 1e-9),
                    "p\(p): \(estimate) vs \(exact)")
            }
        }
    }

    @Test(
        "many series of one metric read at once: each gets its own periods, not a sibling's with more dimensions",
        arguments: backends)
    func manySeries(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let start = (clock.now / 600) * 600 - 1_200
            func key(_ host: Int, zone: Bool = false) -> SeriesKey {
                SeriesKey(
                    namespace: "Conformance/Many", name: "Load",
                    dimensions: zone ? ["Host": "h\(host)", "Zone": "z"] : ["Host": "h\(host)"])
            }
            var samples: [Sample] = []
            for host in 0..<100 {
                for i in 0..<20 {
                    samples.append(
                        Sample(
                            series: key(host), timestamp: start + Int64(i * 60), resolution: .high,
                            value: .single(Double(host * 1_000 + i))))
                }
            }
            // A sibling with one more dimension: a selector by labels alone would also match it.
            samples.append(
                Sample(series: key(1, zone: true), timestamp: start, resolution: .high, value: .single(1_000_000)))
            try await store.put(samples)
            try await backend.settle(store)
            let hosts = Array(0..<80)
            let got = try await store.aggregates(
                hosts.map {
                    AggregateRequest(
                        series: key($0), period: 600, start: start, end: start + 1_200, distribution: false)
                })
            for (host, periods) in zip(hosts, got) {
                #expect(periods.keys.sorted() == [start, start + 600], "h\(host)")
                let first = (0..<10).map { Double(host * 1_000 + $0) }
                #expect(periods[start]?.sum == first.reduce(0, +), "h\(host)")
                #expect(periods[start]?.count == 10 && periods[start]?.max == first.last, "h\(host)")
            }
        }
    }

    @Test("periods without data are absent, and a range outside the data reads nothing", arguments: backends)
    func missingData(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            // Data in the first and third minute only.
            let t0 = (clock.now / 60) * 60 - 600
            try await store.put(Self.singles([(t0 + 5, 1), (t0 + 130, 2)]))
            let got = try await store.statistics(
                StatisticsQuery(series: Self.series, period: 60, start: t0, end: t0 + 240, statistics: [.sum]))
            #expect(got.map(\.timestamp) == [t0, t0 + 120])
            let before = try await store.statistics(
                StatisticsQuery(series: Self.series, period: 60, start: t0 - 3_600, end: t0, statistics: [.sum]))
            #expect(before.isEmpty)
            let unknown = try await store.aggregates([
                AggregateRequest(
                    series: SeriesKey(namespace: "Conformance", name: "Never"), period: 60, start: t0, end: t0 + 240)
            ])
            #expect(unknown == [[:]])
        }
    }

    @Test("statistic sets and values with counts keep their exact aggregates", arguments: backends)
    func preAggregated(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let t = (clock.now / 60) * 60 - 120
            try await store.put([
                Sample(series: Self.series, timestamp: t + 1, value: .statistics(count: 10, sum: 55, min: 1, max: 10)),
                Sample(series: Self.series, timestamp: t + 2, value: .values([2, 4, 8], counts: [1, 2, 3])),
            ])
            try await backend.settle(store)
            let point = try #require(
                try await store.statistics(
                    StatisticsQuery(
                        series: Self.series, period: 60, start: t, end: t + 60,
                        statistics: [.sampleCount, .sum, .minimum, .maximum, .average])
                ).first)
            #expect(point.values[.sampleCount] == 16)
            #expect(point.values[.sum] == 89.0, "55 (the set) + 2·1 + 4·2 + 8·3")
            #expect(point.values[.minimum] == 1)
            #expect(point.values[.maximum] == 10)
            #expect(point.values[.average] == 89.0 / 16)
        }
    }

    @Test("line protocol and samples are the same data", arguments: backends)
    func lineProtocol(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let t = (clock.now / 60) * 60 - 300
            var text = ""
            for i in 0..<100 { text += "Conformance,Function=f Latency=\(Double(i) / 4) \(t + Int64(i))\n" }
            let batch = try LineProtocolParser(limits: IngestLimits()).parse(
                Array(text.utf8), precision: .s, now: clock.now)
            try await store.put(batch, resolution: .high)
            try await backend.settle(store)
            let expected = (0..<100).map { (ts: t + Int64($0), value: Double($0) / 4) }
            try await expectStatistics(store, expected, period: 60, start: t, end: t + 300)
            let info = try #require(try await store.seriesInfo(Self.series))
            #expect(info.key == Self.series)
        }
    }

    @Test(
        "metric names with colons and Plumb-like suffixes are ordinary metrics, stored and read as written",
        arguments: backends)
    func oddNames(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let t = (clock.now / 60) * 60 - 120
            let names = ["x:plumb_count", "x:plumb_series", "x:plumb_bucket", "a:b"]
            try await store.put(
                names.map {
                    Sample(
                        series: SeriesKey(namespace: "Conformance/Odd", name: $0), timestamp: t + 5, resolution: .high,
                        value: .single(7))
                })
            try await backend.settle(store)
            for name in names {
                for distribution in [false, true] {
                    let got = try await store.aggregates([
                        AggregateRequest(
                            series: SeriesKey(namespace: "Conformance/Odd", name: name), period: 60, start: t,
                            end: t + 60, distribution: distribution)
                    ])
                    #expect(got[0][t]?.count == 1 && got[0][t]?.sum == 7, "\(name), distribution \(distribution)")
                }
            }
            #expect(
                Set(try await store.listMetrics(namespace: "Conformance/Odd", name: nil).map(\.key.name)) == Set(names))
        }
    }

    @Test("the catalog lists every series written, by namespace and name, with its unit", arguments: backends)
    func catalog(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let other = SeriesKey(namespace: "Conformance/Other", name: "Bytes", dimensions: ["Host": "a"])
            try await store.put([
                Sample(series: Self.series, unit: .milliseconds, timestamp: clock.now - 10, value: .single(1)),
                Sample(series: other, unit: .bytes, timestamp: clock.now - 10, value: .single(2)),
            ])
            #expect(Set(try await store.listMetrics().map(\.key)).isSuperset(of: [Self.series, other]))
            #expect(try await store.listMetrics(namespace: "Conformance/Other", name: nil).map(\.key) == [other])
            #expect(try await store.listMetrics(namespace: nil, name: "Latency").map(\.key) == [Self.series])
            #expect(try await store.seriesInfo(other)?.unit == .bytes)
            #expect(try await store.seriesInfo(SeriesKey(namespace: "Conformance", name: "Never")) == nil)
        }
    }

    @Test("a query the contract refuses names its problem, on every backend", arguments: backends)
    func refusals(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let cases: [(StatisticsQuery, String)] = [
                (
                    StatisticsQuery(
                        series: Self.series, period: 0, start: clock.now - 60, end: clock.now, statistics: [.sum]),
                    "period"
                ),
                (
                    StatisticsQuery(
                        series: Self.series, period: 60, start: clock.now, end: clock.now - 60, statistics: [.sum]),
                    "start"
                ),
                (
                    StatisticsQuery(
                        series: Self.series, period: 60, start: clock.now - 60, end: clock.now, statistics: []),
                    "statistic"
                ),
            ]
            for (query, word) in cases {
                do {
                    _ = try await store.statistics(query)
                    Issue.record("accepted a query with a bad \(word)")
                } catch let error as any HTTPResponseError {
                    #expect(error.status == 400)
                    #expect(error.message.lowercased().contains(word), "\(error.message)")
                }
            }
        }
    }
}
