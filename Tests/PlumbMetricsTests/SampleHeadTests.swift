import Foundation
import PlumbAPI
import PlumbTesting
import Testing

@testable import PlumbMetrics

/// The head keeps large line-protocol records whole, remembers the series of heads it has seen, and admits no more
/// than its limit while a flush is behind.
@Suite("Metric head: whole records, series cache, admission")
struct SampleHeadTests {
    static let now: Int64 = 1_795_000_020
    static let start: Int64 = 1_794_996_000

    /// A line-protocol body of `lines` lines over 40 hosts, each host's tags written in one of two orders (two raw
    /// heads for one series), timestamps out of order; and per series, its (timestamp, value) pairs.
    static func body(lines: Int, seed: UInt64) -> (text: String, expected: [SeriesKey: [(Int64, Double)]]) {
        var rng = SeededGenerator(seed: seed)
        var text = ""
        var expected: [SeriesKey: [(Int64, Double)]] = [:]
        for i in 0..<lines {
            let host = Int.random(in: 0..<40, using: &rng)
            let ts = start + Int64.random(in: 0..<3_600, using: &rng)
            let value = Double(Int.random(in: -5_000...5_000, using: &rng)) / 100
            let head = i % 2 == 0 ? "Head/App,host=h\(host),az=a\(host % 3)" : "Head/App,az=a\(host % 3),host=h\(host)"
            text += "\(head) latency=\(value),count=\(i)i \(ts)\n"
            let dims: [String: String] = ["host": "h\(host)", "az": "a\(host % 3)"]
            expected[SeriesKey(namespace: "Head/App", name: "latency", dimensions: dims), default: []].append(
                (ts, value))
            expected[SeriesKey(namespace: "Head/App", name: "count", dimensions: dims), default: []].append(
                (ts, Double(i)))
        }
        return (text, expected)
    }

    /// Count, sum, minimum, maximum and the sorted values of each 5-minute period, from the store and by hand.
    static func expectSame(
        _ store: MetricStore, _ expected: [SeriesKey: [(Int64, Double)]],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let keys = Array(expected.keys)
        let requests = keys.map { AggregateRequest(series: $0, period: 300, start: start, end: start + 3_600) }
        let answers = try await store.aggregates(requests)
        for (key, periods) in zip(keys, answers) {
            var byHand: [Int64: [Double]] = [:]
            for (ts, value) in expected[key]! { byHand[floorDiv(ts, 300) * 300, default: []].append(value) }
            #expect(Set(periods.keys) == Set(byHand.keys), "\(key)", sourceLocation: sourceLocation)
            for (period, values) in byHand {
                let got = try #require(periods[period], sourceLocation: sourceLocation)
                #expect(got.count == Double(values.count), sourceLocation: sourceLocation)
                #expect(abs(got.sum - values.reduce(0, +)) < 1e-6, sourceLocation: sourceLocation)
                #expect(got.min == values.min() && got.max == values.max(), sourceLocation: sourceLocation)
                #expect(got.percentile(100) == values.max(), sourceLocation: sourceLocation)
            }
        }
    }

    @Test("a large request is kept whole, and reads the same from the head, from a flush's snapshot and once flushed")
    func wholeRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MetricStore(directory: dir.path, clock: { Self.now })
        let parser = LineProtocolParser(limits: IngestLimits())
        var expected: [SeriesKey: [(Int64, Double)]] = [:]
        for seed in 1...3 as ClosedRange<UInt64> {
            let (text, part) = Self.body(lines: 400, seed: seed)
            try await store.put(
                try parser.parse(Array(text.utf8), precision: .s, now: Self.now), resolution: .high)
            expected.merge(part) { $0 + $1 }
        }
        #expect(store.head.records.withLock { $0.values.reduce(0) { $0 + $1.count } } == 3)
        #expect(store.headSampleCount == 2_400)
        try await Self.expectSame(store, expected)

        // What a flush takes reads the same, from the snapshot alone.
        let snapshot = store.head.take(through: Int.max)
        #expect(store.head.isEmpty && snapshot.sampleCount == 2_400)
        for key in expected.keys {
            let id = try #require(store.seriesInfo(key)?.id)
            var periods: [Int64: Aggregate] = [:]
            snapshot.read(series: id, start: Self.start, end: Self.start + 3_600, period: 300, into: &periods)
            #expect(periods.values.reduce(0) { $0 + $1.count } == Double(expected[key]!.count))
        }
        var streamed = 0
        var previous = Int64.min
        try snapshot.forEachStream { stream, buffer in
            #expect(stream > previous)
            previous = stream
            streamed += buffer.timestamps.count
        }
        #expect(streamed == 2_400)
        store.head.restore(snapshot)
        try await Self.expectSame(store, expected)

        try await store.flush()
        #expect(store.headIsEmpty)
        try await Self.expectSame(store, expected)
    }

    @Test("runs are sorted by stream with one run per stream, each stream's samples in the order they came")
    func sortedByStream() {
        var runs = SampleRuns()
        runs.streams = [10, 4, 10, 2]
        runs.ends = [2, 3, 5, 6]
        runs.timestamps = [1, 2, 3, 4, 5, 6]
        runs.values = [1, 2, 3, 4, 5, 6]
        let sorted = runs.sortedByStream()
        #expect(sorted.streams == [2, 4, 10])
        #expect(sorted.ends == [1, 2, 6])
        #expect(sorted.timestamps == [6, 3, 1, 2, 4, 5])
        let record = HeadRecord(runs)!
        #expect(record.run(of: 4) == 1 && record.run(of: 3) == nil && record.run(of: 11) == nil)
        var buffer = SampleBuffer()
        record.append(run: 2, to: &buffer)
        #expect(buffer.timestamps == [1, 2, 4, 5] && buffer.values == [1, 2, 4, 5])
        // Times too far apart for 32-bit offsets: the record is not kept whole (the head buffers it instead).
        runs.timestamps[0] = Int64(Int32.max) + 10
        #expect(HeadRecord(runs) == nil)
    }

    @Test("series ids remembered per head belong to one store: the same parser feeding two stores mixes nothing up")
    func seriesCachePerStore() async throws {
        let dirA = TemporaryDirectory()
        let dirB = TemporaryDirectory()
        defer {
            dirA.remove()
            dirB.remove()
        }
        let a = try MetricStore(directory: dirA.path, clock: { Self.now })
        let b = try MetricStore(directory: dirB.path, clock: { Self.now })
        // B's ids are shifted by series A never sees.
        try await b.put(
            (0..<7).map { n in
                Sample(
                    series: SeriesKey(namespace: "Other", name: "n\(n)"), timestamp: Self.now - 10, value: .single(1))
            })
        let parser = LineProtocolParser(limits: IngestLimits())
        var expected: [SeriesKey: [(Int64, Double)]] = [:]
        for seed in 4...5 as ClosedRange<UInt64> {
            let (text, part) = Self.body(lines: 300, seed: seed)
            let batch = try parser.parse(Array(text.utf8), precision: .s, now: Self.now)
            try await a.put(batch, resolution: .high)
            try await b.put(batch, resolution: .high)
            expected.merge(part) { $0 + $1 }
        }
        #expect(a.headSeries.count > 0 && b.headSeries.count > 0)
        try await Self.expectSame(a, expected)
        try await Self.expectSame(b, expected)
        #expect(a.seriesInfo(expected.keys.first!)?.id != b.seriesInfo(expected.keys.first!)?.id)
        // The definitions reach the journal with the first record that used them: a reopened store has them all.
        await b.close()
        let reopened = try MetricStore(directory: dirB.path, clock: { Self.now })
        try await Self.expectSame(reopened, expected)
        #expect(try await reopened.listMetrics().count == expected.count + 7)
    }

    @Test(
        "past the admission limit a write waits for a flush, and is refused with 503 and Retry-After after the timeout")
    func admission() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try MetricStore(directory: dir.path, clock: { Self.now })
        store.admission.withLock { $0 = .init(limit: 1_000, timeout: .milliseconds(300)) }
        func samples(_ n: Int, _ name: String) -> [Sample] {
            (0..<n).map { i in
                Sample(
                    series: SeriesKey(namespace: "Admit", name: name), timestamp: Self.now - 3_000 + Int64(i),
                    value: .single(Double(i)))
            }
        }
        // A request counts for at most half the limit: an empty head takes even more than the limit.
        try await store.put(samples(1_200, "first"))
        let refused = await #expect(throws: MetricsError.self) { try await store.put(samples(10, "second")) }
        #expect(refused?.status == 503 && refused?.code == "ServiceUnavailable")
        #expect(refused?.headers.first { $0.name == "Retry-After" }?.value == "1")
        #expect(store.listMetrics(namespace: "Admit", name: "second").isEmpty)

        // A write that waits goes through once a flush makes room.
        store.admission.withLock { $0 = .init(limit: 1_000, timeout: .seconds(30)) }
        let waiting = Task { try await store.put(samples(10, "third")) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.listMetrics(namespace: "Admit", name: "third").isEmpty)
        try await store.flush()
        try await waiting.value
        #expect(store.listMetrics(namespace: "Admit", name: "third").count == 1)
        // A request larger than the limit is not starved by a head that is never empty: half empty is enough.
        try await store.flush()
        try await store.put(samples(400, "fourth"))
        try await store.put(samples(1_200, "fifth"))
        #expect(store.listMetrics(namespace: "Admit", name: "fifth").count == 1)
    }

    @Test("samples replayed from the journal at start count in the head, as the admission limit reads it")
    func replayCounts() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let parser = LineProtocolParser(limits: IngestLimits())
        let (text, _) = Self.body(lines: 400, seed: 9)
        do {
            let store = try MetricStore(directory: dir.path, clock: { Self.now })
            try await store.put(try parser.parse(Array(text.utf8), precision: .s, now: Self.now), resolution: .high)
            #expect(store.headSampleCount == 800)
            await store.close()
        }
        let reopened = try MetricStore(directory: dir.path, clock: { Self.now })
        #expect(reopened.headSampleCount == 800)
        try await reopened.flush()
        #expect(reopened.headSampleCount == 0)
    }
}
