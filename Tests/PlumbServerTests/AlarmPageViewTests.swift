import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbTesting
import Testing

@testable import PlumbServer

/// The alarm page's HTML: everything from outside (names, descriptions, reasons, history) is escaped, and a composite
/// alarm shows its rule and the states of the alarms it names instead of a chart.
@Suite("Alarm page view")
struct AlarmPageViewTests {
    static let hostile = "<script>alert(1)</script> & \"quoted\" 'single'"

    @Test("hostile names, descriptions and reasons are escaped; the chart and the history are shown")
    func escapes() async throws {
        let dir = TemporaryDirectory("plumb-alarm-page-view")
        defer { dir.remove() }
        let engine = try await AlarmEngine(
            source: RecordedSeries(), store: try AlarmStore(directory: dir.path, durability: .normal), parallelism: 1)
        let status = try await engine.put(
            name: Self.hostile,
            document: """
                {"description": "<img src=x onerror=alert(2)>", "namespace": "T", "metric": "M<b>", "dimensions": {"K": "<i>v</i>"},
                 "statistic": "Sum", "period": 60, "evaluation_periods": 1, "comparison": "GreaterThanThreshold", "threshold": 1}
                """, now: 1_800_000_000)
        try await engine.setState(Self.hostile, .alarm, reason: "<svg onload=alert(3)>", now: 1_800_000_060)
        let current = try #require(engine.status(Self.hostile))
        guard case .metric(let alarm) = status.definition else { throw TestFailure("not a metric alarm") }
        let points = (0..<20).map {
            EvaluationDatapoint(timestamp: 1_800_000_000 - Int64(20 - $0) * 60, value: Double($0 % 3))
        }
        let html = AlarmPageView(
            status: current, history: try await engine.history(of: Self.hostile),
            chart: alarm.chart(points), chartProblem: nil, children: [], linkExpires: 1_800_600_000, now: 1_800_000_070
        ).html()
        for raw in ["<script>", "<img src=x", "<svg onload", "M<b>", "<i>v</i>"] {
            #expect(!html.contains(raw), "\(raw) reached the page unescaped")
        }
        for escaped in [
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39;",
            "&lt;svg onload=alert(3)&gt;",
            "Alarm &quot;&lt;script&gt;", "Alarm updated from INSUFFICIENT_DATA to ALARM",
        ] {
            #expect(html.contains(escaped), "\(escaped) missing")
        }
        #expect(html.components(separatedBy: "<svg xmlns").count == 2, "one chart")
        #expect(html.contains("r=\"4.5\" fill=\"#c0392b\""), "values of 2 are above the threshold 1")
        #expect(html.contains("valid until \(TimeParsing.format(1_800_600_000))"))
    }

    @Test("a composite shows its rule and its children's states, and no chart")
    func composite() async throws {
        let engine = try await AlarmEngine(source: RecordedSeries(), store: nil, parallelism: 1)
        let metric =
            #"{"namespace": "T", "metric": "M", "statistic": "Sum", "period": 60, "evaluation_periods": 1, "comparison": "GreaterThanThreshold", "threshold": 1}"#
        _ = try await engine.put(name: "child-a", document: metric, now: 0)
        _ = try await engine.put(name: "child-b", document: metric, now: 0)
        try await engine.setState("child-a", .alarm, reason: "by hand", now: 10)
        let status = try await engine.put(
            name: "both", document: #"{"rule": "ALARM(\"child-a\") AND ALARM(\"child-b\")"}"#, now: 20)
        let html = AlarmPageView(
            status: status, history: [], chart: nil, chartProblem: nil,
            children: [("child-a", "ALARM"), ("child-b", "INSUFFICIENT_DATA")], linkExpires: 100, now: 30
        ).html()
        #expect(
            html.contains("<tr><th>Rule</th><td>ALARM(&quot;child-a&quot;) AND ALARM(&quot;child-b&quot;)</td></tr>"))
        #expect(
            html.contains("<tr><th>child-a</th><td>ALARM</td></tr>")
                && html.contains("<tr><th>child-b</th><td>INSUFFICIENT_DATA</td></tr>"))
        #expect(!html.contains("<svg"))
        #expect(html.contains("composite alarm"))
    }
}
