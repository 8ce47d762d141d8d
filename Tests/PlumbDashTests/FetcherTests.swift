import Foundation
import PlumbDash
import PlumbMetrics
import PlumbTesting
import Synchronization
import Testing

/// A transport that records requests and answers from a table.
final class RecordingTransport: DashTransport {
    let requests = Mutex<[(String, String, [UInt8]?)]>([])

    func send(_ method: String, _ path: String, body: [UInt8]?) async throws -> [UInt8] {
        requests.withLock { $0.append((method, path, body)) }
        if path.hasPrefix("/api/v1/metrics/query") {
            let request = try JSONSerialization.jsonObject(with: Data(body ?? [])) as? [String: Any] ?? [:]
            let queries = request["queries"] as? [[String: Any]] ?? []
            // Every returned query gets one point with value 1.
            let results = queries.filter { $0["return"] as? Bool ?? true }.map { q -> [String: Any] in
                [
                    "id": q["id"] as! String, "label": q["label"] as? String ?? "",
                    "timestamps": ["2027-01-15T08:00:00Z"], "values": [1.0],
                ]
            }
            return Array(try JSONSerialization.data(withJSONObject: ["results": results]))
        }
        if path.hasPrefix("/api/v1/metrics?") {
            return Array(
                #"{"metrics": [{"namespace": "Plumb/Functions", "name": "Invocations", "dimensions": {"Function": "b.f"}}, {"namespace": "Plumb/Functions", "name": "Invocations", "dimensions": {"Function": "a.f"}}]}"#
                    .utf8)
        }
        if path.hasPrefix("/api/v1/alarms") {
            return Array(
                #"{"alarms": [{"name": "x", "state": "ALARM", "stateReason": "r", "silence": {"id": "s-1", "until": "2027-01-15T12:00:00Z", "createdBy": "user:ana", "comment": "rack move"}}, {"name": "y", "state": "OK", "stateReason": "r"}]}"#
                    .utf8)
        }
        if path.hasPrefix("/api/v1/logs/") {
            return Array(#"{"events": [{"timestamp": 1, "message": "b"}, {"timestamp": 0, "message": "a"}]}"#.utf8)
        }
        throw CancellationError()
    }
}

@Suite("DashFetcher")
struct FetcherTests {
    /// The overview-like page: 12 widgets.
    static let yaml = """
        version: 1
        title: Twelve
        range: 1h
        pages:
          - title: One
            rows:
              - widgets:
                  - {type: stat, title: s1, queries: [{id: i, metric: {namespace: Plumb/Functions, name: Invocations}, stat: Sum}]}
                  - type: stat
                    title: rate
                    queries:
                      - {id: e, metric: {namespace: Plumb/Functions, name: Errors}, stat: Sum, return: false}
                      - {id: i, metric: {namespace: Plumb/Functions, name: Invocations}, stat: Sum, return: false}
                      - {id: rate, expression: "100 * e / i"}
                  - {type: gauge, title: g, queries: [{id: c, metric: {namespace: Plumb/Functions, name: ConcurrentExecutions}, stat: Maximum}]}
                  - {type: sparkline, title: sp, queries: [{id: c, metric: {namespace: Plumb/Functions, name: ConcurrentExecutions}, stat: Maximum}]}
              - widgets:
                  - {type: timeseries, title: t1, queries: [{id: a, metric: {namespace: Plumb/Functions, name: Invocations}, stat: Sum}, {id: b, metric: {namespace: Plumb/Functions, name: Errors}, stat: Sum}]}
                  - {type: timeseries, title: t2, queries: [{id: d, metric: {namespace: Plumb/Functions, name: Duration}, stat: p99}]}
                  - {type: heatmap, title: h, metric: {namespace: Plumb/Functions, name: Duration}}
                  - {type: bar, title: b, queries: [{id: a, metric: {namespace: Plumb/Functions, name: Invocations}, stat: Sum}]}
              - widgets:
                  - {type: table, title: fns, namespace: Plumb/Functions, dimension: Function, columns: [{metric: Invocations, stat: Sum}, {metric: Duration, stat: p99}]}
                  - {type: alarms, title: alarms}
                  - {type: logs, title: logs, log_group: /plumb/server, filter: error}
                  - {type: text, title: notes, text: hello}
        """

    @Test(
        "a refresh sends one batch metrics query for every widget, plus the alarms and one log search; table rows are listed at start only"
    )
    func oneBatchPerRefresh() async throws {
        let dashboard = try DashboardParser.parse(Self.yaml, file: "t.yaml", name: "t")
        let transport = RecordingTransport()
        let fetcher = Fetcher(dashboard: dashboard, transport: transport)
        let data = await fetcher.fetch(page: 0, end: 1_800_000_000)
        #expect(data.problems.isEmpty, "\(data.problems)")
        #expect(await fetcher.calls == ["list": 1, "query": 1, "alarms": 1, "logs": 1])
        for _ in 0..<3 { _ = await fetcher.fetch(page: 0, end: 1_800_000_060) }
        #expect(
            await fetcher.calls == ["list": 1, "query": 4, "alarms": 4, "logs": 4],
            "one batch query per refresh, not one per widget")
        // The batch holds every widget's queries with the widget's prefix, expressions rewritten to match.
        let first = try #require(transport.requests.withLock { $0.first { $0.1 == "/api/v1/metrics/query" } })
        let body = try JSONSerialization.jsonObject(with: Data(first.2 ?? [])) as? [String: Any] ?? [:]
        let queries = body["queries"] as? [[String: Any]] ?? []
        let ids = Set(queries.compactMap { $0["id"] as? String })
        #expect(
            ids.isSuperset(of: ["w0_i", "w1_e", "w1_i", "w1_rate", "w2_c", "w3_c", "w4_a", "w4_b", "w5_d", "w7_a"]),
            "\(ids.sorted())")
        #expect(
            ids.isSuperset(of: ["w6_p10", "w6_p50", "w6_p99", "w8_r0_c0", "w8_r1_c1"]),
            "heatmap percentiles and table cells")
        #expect(queries.first { $0["id"] as? String == "w1_rate" }?["expression"] as? String == "100 * w1_e / w1_i")
        #expect(body["period"] as? Int == 60 && body["start"] as? String == "1799996400")
        // What came back lands where the widgets look.
        #expect(
            data.series["w1"]?.first?.values == [1] && data.series["w1"]?.count == 1, "hidden inputs are not series")
        #expect(data.tables["w8"]?.map(\.0) == ["a.f", "b.f"] && data.tables["w8"]?.first?.1 == [1, 1])
        #expect(
            data.alarms.first?.state == "ALARM" && data.logs["w10"]?.map(\.message) == ["a", "b"], "logs oldest first")
        #expect(
            data.alarms.map(\.silenced) == ["until 2027-01-15T12:00:00Z by user:ana (rack move)", nil],
            "a silence is read with its alarm")
        #expect(
            transport.requests.withLock {
                $0.contains { $0.1.contains("/api/v1/logs/%2Fplumb%2Fserver?") && $0.1.contains("filter=error") }
            })
    }

    @Test(
        "a widget with its own refresh is fetched alone when due: its queries only, in one batch, merged into the page's data"
    )
    func perWidgetRefresh() async throws {
        let dashboard = try DashboardParser.parse(Self.yaml, file: "t.yaml", name: "t")
        let transport = RecordingTransport()
        let fetcher = Fetcher(dashboard: dashboard, transport: transport)
        var data = await fetcher.fetch(page: 0, end: 1_800_000_000)
        let partial = await fetcher.fetch(page: 0, end: 1_800_000_030, only: ["w1", "w9"])
        let calls = await fetcher.calls
        #expect(
            calls["query"] == 2 && calls["alarms"] == 2 && calls["logs"] == 1,
            "no log search for a widget not due: \(calls)")
        let last = try #require(transport.requests.withLock { $0.last { $0.1 == "/api/v1/metrics/query" } })
        let ids =
            ((try JSONSerialization.jsonObject(with: Data(last.2 ?? [])) as? [String: Any])?["queries"]
            as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids) == ["w1_e", "w1_i", "w1_rate"], "\(ids)")
        let before = data.series["w0"]
        data.merge(partial, keys: ["w1", "w9"], alarms: true)
        #expect(data.series["w0"] == before && data.series["w1"]?.count == 1 && data.end == 1_800_000_030)
        let parsed = try DashboardParser.parse(
            """
            version: 1
            title: r
            pages: [{rows: [{widgets: [{type: text, title: t, text: x, refresh: 2s}]}]}]
            """, file: "r.yaml", name: "r")
        #expect(parsed.pages[0].rows[0].widgets[0].refresh == 2)
    }

    @Test("render time of one 200×60 frame with 12 widgets (printed; the figure is in the README, not asserted)")
    func renderTime() async throws {
        let dashboard = try DashboardParser.parse(Self.yaml, file: "t.yaml", name: "t")
        var data = await Fetcher(dashboard: dashboard, transport: RecordingTransport()).fetch(
            page: 0, end: 1_800_000_000)
        // Realistic series: 60 points per query.
        let times = stride(from: data.start, to: data.end, by: 60).map { $0 }
        for (key, series) in data.series {
            data.series[key] = series.enumerated().map { i, s in
                .init(
                    label: s.label, timestamps: times, values: times.indices.map { 100 + 50 * sin(Double($0 + i) / 5) })
            }
        }
        data.heatmaps["w6"] = times.map { ($0, [(10, 1.0), (25, 2), (50, 4), (75, 8), (90, 20), (99, 90)]) }
        data.logs["w10"] = (0..<60).map {
            .init(timestamp: Int64($0) * 1_000, message: "event \($0) error something happened")
        }
        let renderer = Renderer(dashboard: dashboard, symbols: .braille)
        var times_: [Double] = []
        var previous: Canvas?
        for _ in 0..<50 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let canvas = renderer.render(data, state: ViewState(), width: 200, height: 60)
            let out = canvas.diff(from: previous, theme: .dark)
            previous = canvas
            times_.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            #expect(!out.isEmpty || previous != nil)
        }
        times_.sort()
        print(
            "dash render 200x60, 12 widgets: median \(String(format: "%.2f", times_[times_.count / 2])) ms, p90 \(String(format: "%.2f", times_[times_.count * 9 / 10])) ms (debug build unless -c release)"
        )
    }
}
