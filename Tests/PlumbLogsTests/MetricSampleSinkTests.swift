import Foundation
import PlumbAPI
import PlumbLogs
import PlumbMetrics
import PlumbTesting
import Synchronization
import Testing

/// A log batch and the samples its metric filters make of it are applied together: the samples go to the sink
/// inside the batch's transaction, so a refused sample refuses the batch.
@Suite struct MetricSampleSinkTests {
    static let now: Int64 = 1_800_000_000_000

    /// A sink that refuses every write, and counts how often it was asked.
    final class RefusingSink: MetricSampleSink {
        let calls = Atomic<Int>(0)

        func append(_ samples: [Sample]) throws {
            calls.add(1, ordering: .relaxed)
            throw MetricsError(code: "InternalFailure", message: "disk full", httpStatus: 503)
        }
    }

    static func errors() throws -> MetricFilter {
        MetricFilter(
            name: "errors", group: "/app/api", pattern: try FilterPattern("ERROR"), namespace: "App", metric: "Errors")
    }

    static let batch = [
        InputLogEvent(timestamp: now - 2_000, message: "INFO started"),
        InputLogEvent(timestamp: now - 1_000, message: "ERROR payment failed"),
    ]

    @Test func aFailingSinkRefusesTheWholeBatchAndStoresNoneOfItsEvents() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = RefusingSink()
        let store = try LogStore(directory: dir.path, durability: .normal, clock: { Self.now }, samples: sink)
        store.setMetricFilters([try Self.errors()])

        #expect(throws: MetricsError.self) { try store.put(group: "/app/api", stream: "web-1", events: Self.batch) }
        #expect(sink.calls.load(ordering: .relaxed) == 1)
        #expect(try store.lastEventID() == 0, "no event of the refused batch is stored")
        #expect(try store.groups().isEmpty, "nor its group")

        // A batch no filter matches makes no samples, so the sink is not asked and the batch is stored.
        try store.put(group: "/app/other", stream: "web-1", events: Self.batch)
        #expect(sink.calls.load(ordering: .relaxed) == 1)
        #expect(try store.filter(LogQuery(group: "/app/other")).events.count == 2)
    }

    @Test func theSamplesAreInTheMetricStoreWhenTheBatchIsAcceptedAndSurviveAReopen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let series = SeriesKey(namespace: "App", name: "Errors", dimensions: [:])
        let query = StatisticsQuery(
            series: series, period: 60, start: Self.now / 1_000 - 600, end: Self.now / 1_000 + 60, statistics: [.sum])
        do {
            let metrics = try MetricStore(directory: dir.path, durability: .normal, clock: { Self.now / 1_000 })
            let store = try LogStore(directory: dir.path, durability: .normal, clock: { Self.now }, samples: metrics)
            store.setMetricFilters([try Self.errors()])
            let samples = try store.put(group: "/app/api", stream: "web-1", events: Self.batch + Self.batch)
            #expect(samples.count == 2)
            let sums = try await metrics.statistics(query).map { $0.values[.sum] }
            #expect(sums == [2])
        }
        // Nothing flushed the head: the journal entry the sink wrote is what brings the samples back.
        let reopened = try MetricStore(directory: dir.path, durability: .normal, clock: { Self.now / 1_000 })
        #expect(try await reopened.statistics(query).map { $0.values[.sum] } == [2])
    }
}
