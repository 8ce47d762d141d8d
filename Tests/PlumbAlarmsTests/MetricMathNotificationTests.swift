import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbNotify
import PlumbServer
import PlumbTesting
import Testing

/// What a metric-math alarm's notification says: its queries (each id, metric and statistic, the returned one
/// marked) instead of a made-up single metric, and the returned expression's values over the chart window.
@Suite("Metric-math notifications")
struct MetricMathNotificationTests {
    static let t0: Int64 = 1_800_000_000 - 1_800_000_000 % 60

    /// The error-rate alarm of `MetricMathAlarmTests`, gone to ALARM at t0 + 180, and its transition.
    static func transition() async throws -> (AlarmTransition, RecordedSeries) {
        let (config, errors) = AlertFileParser.parse(MetricMathAlarmTests.yaml, file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        var samples: [RecordedSeries.Sample] = []
        for (minute, errorCount) in [(0, 1.0), (1, 8.0), (2, 9.0)] {
            let t = t0 + Int64(minute) * 60
            samples.append(.init(series: MetricMathAlarmTests.series("Invocations"), timestamp: t, value: 100))
            samples.append(.init(series: MetricMathAlarmTests.series("Errors"), timestamp: t, value: errorCount))
        }
        let source = RecordedSeries(samples: samples)
        let engine = try await AlarmEngine(source: source, store: nil, parallelism: 1)
        try await engine.install(config, now: t0, extraTopics: [])
        let report = await engine.tick(now: t0 + 180)
        let transition = try #require(report.transitions.first { $0.newState == .alarm })
        return (transition, source)
    }

    @Test(
        "the message lists e, i and rate with their metrics and statistics, marks rate as returned, and has no single metric"
    )
    func messageNamesTheQueries() async throws {
        let (transition, source) = try await Self.transition()
        guard case .metric(let alarm) = transition.alarm else { throw TestFailure("not a metric alarm") }
        let chart = try await source.chartDatapoints(for: alarm, at: transition.timestamp)
        let (_, json, _) = transition.notification(
            url: "https://plumb.example/alarms/error-rate?exp=1&sig=x", urlExpires: Self.t0 + 3_600, chart: chart)
        let message = try JSONDecoder().decode(AlarmMessage.self, from: Data(json.utf8))
        #expect(message.metric == nil, "no invented Plumb/MetricMath metric: \(String(describing: message.metric))")
        #expect(
            message.period == 60 && message.threshold == 5 && message.evaluationPeriods == 3
                && message.datapointsToAlarm == 2)
        let queries = try #require(message.metrics)
        #expect(queries.map(\.id) == ["e", "i", "rate"])
        #expect(queries.map(\.returned) == [false, false, true])
        #expect(
            queries[0].metric
                == .init(namespace: "T", name: "Errors", dimensions: ["Function": "f"], statistic: "Sum", period: 60))
        #expect(queries[1].metric?.name == "Invocations" && queries[1].metric?.statistic == "Sum")
        #expect(queries[2].expression == "100 * e / i" && queries[2].label == "Error rate" && queries[2].metric == nil)
        #expect(message.urlExpires == TimeParsing.format(Self.t0 + 3_600))

        // The chart: 20 periods ending at the evaluation; the rate is 1 %, 8 %, 9 % in the three evaluated minutes.
        let points = try #require(message.datapoints)
        #expect(points.count == 20)
        #expect(points.suffix(3).map(\.value) == [1, 8, 9])
        #expect(points.suffix(3).map(\.breaching) == [false, true, true])
        #expect(
            points.suffix(5).allSatisfy(\.evaluated) && !points.dropLast(5).contains(where: \.evaluated),
            "the evaluation range is N + 2 = 5 periods")
        #expect(points.last?.timestamp == TimeParsing.format(Self.t0 + 120))
    }

    @Test("the mail shows the expression and its metrics, the threshold on the returned expression, and a chart")
    func mailShowsTheExpression() async throws {
        let (transition, source) = try await Self.transition()
        guard case .metric(let alarm) = transition.alarm else { throw TestFailure("not a metric alarm") }
        let (subject, json, attributes) = transition.notification(
            url: "https://plumb.example/alarms/error-rate?exp=1&sig=x",
            chart: try await source.chartDatapoints(for: alarm, at: transition.timestamp))
        let mail = EmailRenderer.render(
            Outbox.Message(
                id: "m-1", topic: "ops", type: "Notification", subject: subject, message: json, attributes: attributes,
                createdAt: Self.t0))
        for needle in [
            "- e: namespace T, metric Errors, dimensions Function = f, statistic Sum",
            "- i: namespace T, metric Invocations, dimensions Function = f, statistic Sum",
            "- rate: expression 100 * e / i, label \"Error rate\" — returned: the alarm watches this",
            "when the expression rate (100 * e / i) is GreaterThanThreshold 5.0 for at least 2 of the last 3 period(s) of 60 seconds",
            "08:02:00 9 (breaching)",
        ] {
            #expect(mail.text.contains(needle), "missing \(needle) in:\n\(mail.text)")
        }
        #expect(!mail.text.contains("Plumb/MetricMath") && !mail.html.contains("Plumb/MetricMath"))
        #expect(!mail.text.contains("Statistic: Average"))
        let image = try #require(mail.inlineImages.first)
        #expect(image.contentType == "image/png" && image.data.prefix(4) == [0x89, 0x50, 0x4E, 0x47])
        #expect(mail.html.contains("<img src=\"cid:chart.m-1@plumb\""))
    }
}
