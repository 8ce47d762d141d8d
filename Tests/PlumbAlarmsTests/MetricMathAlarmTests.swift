import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbServer
import Testing

/// An alarm may watch a metric math expression (CloudWatch's `Metrics`): an error rate from errors and invocations.
@Suite("MetricMathAlarm")
struct MetricMathAlarmTests {
    static let yaml = """
        alarms:
          - name: error-rate
            metrics:
              - {id: e, metric: {namespace: T, name: Errors, dimensions: {Function: f}}, stat: Sum, return: false}
              - {id: i, metric: {namespace: T, name: Invocations, dimensions: {Function: f}}, stat: Sum, return: false}
              - {id: rate, expression: "100 * e / i", label: Error rate}
            period: 60
            evaluation_periods: 3
            datapoints_to_alarm: 2
            comparison: GreaterThanThreshold
            threshold: 5
            treat_missing_data: notBreaching
        """

    static func series(_ name: String) -> SeriesKey {
        SeriesKey(namespace: "T", name: name, dimensions: ["Function": "f"])
    }

    @Test("the alarm goes to ALARM when 2 of 3 periods of 100 × errors / invocations exceed 5 %, and back to OK")
    func errorRate() async throws {
        let (config, errors) = AlertFileParser.parse(Self.yaml, file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        let t0: Int64 = 1_800_000_000 - 1_800_000_000 % 60
        var samples: [RecordedSeries.Sample] = []
        // Per minute: 100 invocations; errors 1, 8, 9 in the three minutes before t0 + 180 (1 %, 8 %, 9 %).
        for (minute, errorCount) in [(0, 1.0), (1, 8.0), (2, 9.0), (3, 0.0), (4, 0.0), (5, 0.0)] {
            let t = t0 + Int64(minute) * 60
            samples.append(.init(series: Self.series("Invocations"), timestamp: t, value: 100))
            if errorCount > 0 { samples.append(.init(series: Self.series("Errors"), timestamp: t, value: errorCount)) }
        }
        let engine = try await AlarmEngine(source: RecordedSeries(samples: samples), store: nil, parallelism: 1)
        try await engine.install(config, now: t0, extraTopics: [])
        await engine.tick(now: t0 + 180)
        let alarmed = try #require(engine.status("error-rate"))
        #expect(alarmed.state == .alarm, "\(alarmed.reason)")
        // Minutes 3–5 have invocations and no errors: e is missing, which counts as 0, so the rate is 0 %.
        await engine.tick(now: t0 + 360)
        #expect(engine.status("error-rate")?.state == .ok, "\(engine.status("error-rate")?.reason ?? "")")
    }

    @Test("alarm files refuse metric math mixed with a metric, no returned query, or an unknown id")
    func fileErrors() {
        for (yaml, fragment) in [
            (
                """
                alarms:
                  - {name: a, namespace: T, metrics: [{id: r, expression: "1"}], period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0}
                """, "has no namespace"
            ),
            (
                """
                alarms:
                  - {name: a, metrics: [{id: r, expression: "1", return: false}], period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0}
                """, "no query has return: true"
            ),
            (
                """
                alarms:
                  - {name: a, metrics: [{id: r, expression: "x * 2"}], period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0}
                """, "reads 'x'"
            ),
            (
                """
                alarms:
                  - {name: a, metrics: [{id: r, expression: "1"}, {id: s, expression: "2"}], period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0}
                """, "exactly one query"
            ),
        ] {
            let (_, errors) = AlertFileParser.parse(yaml, file: "t.yaml")
            #expect(errors.contains { $0.message.contains(fragment) }, "\(errors) should mention \(fragment)")
        }
    }
}
