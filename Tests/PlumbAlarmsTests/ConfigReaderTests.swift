import PlumbAPI
import PlumbAlarms
import PlumbServer
import PlumbTesting
import Testing

/// The JSON reader an alarm engine has without a server reads alarm documents as the server's YAML reader does.
@Suite struct ConfigReaderTests {
    static let metric = """
        {"description": "caf\\u00e9 \\"quoted\\"", "namespace": "App", "metric": "Errors",
         "dimensions": {"Function": "shop.buy"}, "statistic": "p99", "period": 60, "evaluation_periods": 3,
         "datapoints_to_alarm": 2, "comparison": "GreaterThanThreshold", "threshold": 1e3,
         "treat_missing_data": "breaching", "alarm_actions": ["ops"], "severity": null}
        """

    @Test func aMetricAlarmDocumentReadsTheSameThroughJSONAndYAML() throws {
        let json = try AlarmParser.parseDocument(Self.metric, name: "errors", reader: JSONConfigReader()).get()
        let yaml = try AlertFileParser.parseAlarmDocument(Self.metric, name: "errors").get()
        #expect(json == yaml)
        guard case .metric(let alarm) = json else { throw TestFailure("not a metric alarm") }
        #expect(alarm.description == "café \"quoted\"")
        #expect(alarm.threshold == 1_000)
        #expect(alarm.severity == nil)
    }

    @Test func problemsAndSyntaxErrorsNameTheFieldAndLine() throws {
        let reader = JSONConfigReader()
        let pair = try reader.read(#"{"emoji": "\ud83d\ude80", "n": [1, -2.5e3, true, null]}"#, file: "body")
        #expect(pair?["emoji"]?.scalar == "🚀")
        #expect(pair?["n"]?.sequence?.map(\.scalar) == ["1", "-2.5e3", "true", "null"])
        #expect(pair?["n"]?.sequence?.last?.isNull == true)
        #expect(throws: AlertFileError(file: "body", line: 3, field: "", message: "expected ',' or '}'")) {
            try reader.read("{\n  \"a\": 1,\n  \"b\": 2 \"c\"}", file: "body")
        }
        let bad = #"{"rule": "ALARM(\"a\")", "wait_period": 60, "nonsense": true}"#
        guard case .failure(let errors) = AlarmParser.parseDocument(bad, name: "c", reader: reader) else {
            Issue.record("an unknown field was accepted")
            return
        }
        #expect(errors.errors.map(\.field).sorted() == ["nonsense", "wait_period"])
    }
}
