import PlumbAPI
import PlumbAlarms
import PlumbMetrics
import PlumbServer
import Synchronization
import Testing

/// CloudWatch's ActionsEnabled: an alarm whose actions are disabled still evaluates, changes state and keeps its
/// history, but notifies no topic; Enable/DisableAlarmActions rewrite the stored document and keep the state.
@Suite("Alarm actions enabled")
struct AlarmActionsEnabledTests {
    static let document = #"""
        {"namespace": "T", "metric": "m", "statistic": "Sum", "period": 60, "evaluation_periods": 1,
         "comparison": "GreaterThanThreshold", "threshold": 1.5, "alarm_actions": ["ops"], "ok_actions": ["ops"],
         "description": null, "dimensions": {"Host": "a"}}
        """#

    /// The notifications sent, as "alarm STATE → topic".
    final class Notified: Sendable {
        let list = Mutex<[String]>([])
        var all: [String] { list.withLock { $0 } }
    }

    static func engine(notified: Notified, files: String? = nil) async throws -> AlarmEngine {
        let engine = try await AlarmEngine(
            source: RecordedSeries(), store: nil, parallelism: 1,
            runActions: { t in
                notified.list.withLock { $0 += t.topics.map { "\(t.alarm.name) \(t.newState.rawValue) → \($0)" } }
                return t.topics.map { AlarmEngine.ActionOutcome(topic: $0) }
            })
        if let files {
            let (config, errors) = AlertFileParser.parse(files, file: "t.yaml")
            #expect(errors.isEmpty, "\(errors)")
            try await engine.install(config, now: 0, extraTopics: ["ops"])
        }
        return engine
    }

    @Test("disabled, a transition notifies nothing; enabled again, it notifies; the state and definition are kept")
    func disableThenEnable() async throws {
        let notified = Notified()
        let engine = try await Self.engine(notified: notified)
        _ = try await engine.put(name: "a", document: Self.document, now: 100)
        try await engine.setState("a", .alarm, reason: "first", reasonData: nil, now: 110)
        #expect(notified.all == ["a ALARM → ops"])

        #expect(try await engine.setActionsEnabled(false, names: ["a", "missing"], now: 120) == ["a"])
        let disabled = try #require(engine.status("a"))
        #expect(!disabled.definition.actions.enabled)
        #expect(disabled.state == .alarm, "the state is kept")
        guard case .metric(let alarm) = disabled.definition else {
            Issue.record("not a metric alarm")
            return
        }
        #expect(alarm.threshold == 1.5 && alarm.series.dimensions == [Dimension(name: "Host", value: "a")])
        #expect(alarm.description == nil)
        try await engine.setState("a", .ok, reason: "while disabled", reasonData: nil, now: 130)
        #expect(engine.status("a")?.state == .ok)
        #expect(notified.all.count == 1, "a disabled alarm notifies nothing")
        // Disabling twice changes nothing.
        #expect(try await engine.setActionsEnabled(false, names: ["a"], now: 135) == [])

        #expect(try await engine.setActionsEnabled(true, names: ["a"], now: 140) == ["a"])
        #expect(engine.status("a")?.definition.actions.enabled == true)
        try await engine.setState("a", .alarm, reason: "enabled again", reasonData: nil, now: 150)
        #expect(notified.all == ["a ALARM → ops", "a ALARM → ops"])
    }

    @Test("an alarm declared in a file is refused before anything changes")
    func fileAlarmsAreRefused() async throws {
        let notified = Notified()
        let engine = try await Self.engine(
            notified: notified,
            files: """
                alarms:
                  - {name: filed, namespace: T, metric: m, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, alarm_actions: [ops]}
                """)
        _ = try await engine.put(name: "a", document: Self.document, now: 100)
        await #expect(throws: AlarmError.self) {
            try await engine.setActionsEnabled(false, names: ["a", "filed"], now: 120)
        }
        #expect(engine.status("a")?.definition.actions.enabled == true, "all or nothing")
        #expect(engine.status("filed")?.definition.actions.enabled == true)
    }

    @Test("actions_enabled in a document or an alert file is read; a value other than true or false is refused")
    func documentField() async throws {
        let notified = Notified()
        let engine = try await Self.engine(notified: notified)
        let off = Self.document.replacingOccurrences(of: #""description": null"#, with: #""actions_enabled": false"#)
        #expect(try await engine.put(name: "b", document: off, now: 100).definition.actions.enabled == false)
        let bad = Self.document.replacingOccurrences(of: #""description": null"#, with: #""actions_enabled": "maybe""#)
        await #expect(throws: AlarmError.self) { try await engine.put(name: "c", document: bad, now: 100) }
        let (config, errors) = AlertFileParser.parse(
            """
            alarms:
              - {name: quiet, namespace: T, metric: m, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, actions_enabled: false}
            """, file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        #expect(config.alarms.first?.actions.enabled == false, "\(config.alarms)")
    }
}
