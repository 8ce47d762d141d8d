import Foundation
import PlumbAPI
import PlumbHost
import PlumbKit
import PlumbMetrics
import PlumbPluginTesting
import PlumbTesting
import Testing

@Suite("Admission control")
struct ThrottlingTests {
    func makeHost(
        _ factory: PlumbMetricsFactory, _ dir: TemporaryDirectory, accountLimit: Int = 1_000
    ) async throws -> PluginHost {
        let host = PluginHost(dataDirectory: dir.path, accountConcurrency: accountLimit, factory: factory)
        try await host.load(ProbePlugin.self)
        return host
    }

    @Test("reserved concurrency 2, 10 concurrent slow calls: exactly 8 throttled, Throttles sums to 8")
    func reservedTwo() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let factory = PlumbMetricsFactory()
        let host = try await makeHost(factory, dir)
        try host.setReservedConcurrency("probe.slow", 2)
        let slow = try #require(host.function(named: "probe.slow"))
        let outcomes = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        return try await host.invoke(slow, FunctionRequest(query: ["ms": "500"])).status
                    } catch let error as FunctionError {
                        return error.status
                    } catch {
                        return -1
                    }
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == 429 }.count == 8)
        #expect(outcomes.filter { $0 == 200 }.count == 2)

        // The same figures through the metrics store, as an alarm or a dashboard would see them.
        let store = try MetricStore(directory: dir.path + "/metrics")
        try await MetricsReporter(factory: factory, store: store).report()
        let now = Int64(Date().timeIntervalSince1970)
        func sum(_ name: String) async throws -> Double {
            let points = try await store.statistics(
                StatisticsQuery(
                    series: SeriesKey(namespace: "Plumb/Functions", name: name, dimensions: ["Function": "probe.slow"]),
                    period: 60, start: now - 120, end: now + 120, statistics: [.sum]))
            return points.reduce(0) { $0 + ($1.values[.sum] ?? 0) }
        }
        #expect(try await sum("Throttles") == 8)
        #expect(try await sum("Invocations") == 2)
        #expect(try await sum("Errors") == 0)
        let duration = try await store.statistics(
            StatisticsQuery(
                series: SeriesKey(
                    namespace: "Plumb/Functions", name: "Duration", dimensions: ["Function": "probe.slow"]),
                period: 60, start: now - 120, end: now + 120, statistics: [.minimum, .sampleCount]))
        #expect(duration.first?.values[.sampleCount] == 2)
        #expect((duration.first?.values[.minimum] ?? 0) >= 500, "Duration is in milliseconds")
    }

    @Test("the unreserved pool is the account limit minus every reservation")
    func unreservedPool() async throws {
        let limiter = ConcurrencyLimiter(accountLimit: 10, minimumUnreserved: 2)
        try limiter.setReserved("a", 5)
        #expect(throws: FunctionError.self) { try limiter.setReserved("b", 4) }
        #expect(limiter.snapshot.unreservedLimit == 5)
        for _ in 0..<5 { #expect(limiter.acquire("x") != nil) }
        #expect(limiter.acquire("y") == nil, "the unreserved pool of 5 is full")
        for _ in 0..<5 { #expect(limiter.acquire("a") != nil) }
        #expect(limiter.acquire("a") == nil)
        limiter.release("x")
        #expect(limiter.acquire("y")?.account == 10, "counts come back with the admission")
        try limiter.setReserved("a", 0)
        limiter.release("a")
        #expect(limiter.acquire("a") == nil, "reserved 0 throttles every call")
    }

    @Test("errors count in Errors; a handled 4xx does not")
    func errors() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let factory = PlumbMetricsFactory()
        let host = try await makeHost(factory, dir)
        let fail = try #require(host.function(named: "probe.fail"))
        await #expect(throws: FunctionError.self) { try await host.invoke(fail, FunctionRequest()) }
        let samples = factory.takeSamples(timestamp: 0, validator: DatumValidator(limits: IngestLimits()))
        let errors = samples.first { $0.series.name == "Errors" && $0.series.dimensions.first?.value == "probe.fail" }
        #expect(errors?.value == .single(1))
        #expect(host.limiter.inFlight("probe.fail") == 0, "the slot is released after an error")
    }
}
