import PlumbAlarms
import PlumbMetrics
import PlumbServer
import Synchronization
import Testing

@Suite struct CompositeAlarmTests {
    @Test func precedenceIsNotThenAndThenOr() async throws {
        let rule = try AlarmRule.parse(#"ALARM("a") OR ALARM("b") AND NOT OK(c)"#)
        #expect(rule == .or(.state(.alarm, "a"), .and(.state(.alarm, "b"), .not(.state(.ok, "c")))))
        let grouped = try AlarmRule.parse(#"(ALARM("a") OR ALARM("b")) AND TRUE"#)
        #expect(grouped == .and(.or(.state(.alarm, "a"), .state(.alarm, "b")), .constant(true)))
        #expect(
            try AlarmRule.parse(#"INSUFFICIENT_DATA("x \"quoted\" name")"#)
                == .state(.insufficientData, #"x "quoted" name"#))
    }

    @Test(arguments: [
        ("", "empty"), (#"ALARM("a") AND"#, "ends"), (#"ALARM("a""#, "expected ')'"), ("alarm(a)", "expected ALARM"),
        (#"ALARM("a") XOR OK("b")"#, "unexpected"), (#"ALARM("unterminated)"#, "unterminated"),
        ("ALARM()", "empty alarm name"),
        ("(TRUE", "expected ')'"),
    ])
    func malformedRulesSayWhere(_ text: String, _ fragment: String) {
        #expect(throws: AlarmRuleError.self) { try AlarmRule.parse(text) }
        do { _ = try AlarmRule.parse(text) } catch {
            #expect(error.message.contains(fragment), "\(text): \(error.message)")
        }
    }

    @Test func evaluatesAgainstStates() async throws {
        let rule = try AlarmRule.parse(#"ALARM("a") AND NOT INSUFFICIENT_DATA("b") OR FALSE"#)
        let states: [String: AlarmState] = ["a": .alarm, "b": .ok]
        #expect(rule.evaluate { states[$0] })
        #expect(!rule.evaluate { ["a": AlarmState.alarm, "b": .insufficientData][$0] })
        #expect(!rule.evaluate { _ in nil })
        #expect(rule.references == ["a", "b"])
    }

    @Test func cyclesAreNamed() {
        #expect(AlarmGraph.cycle(in: ["a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]]) == ["a", "b", "c", "a"])
        #expect(AlarmGraph.cycle(in: ["a": ["b"], "b": ["m1"], "c": ["a", "b"]]) == nil)
        #expect(AlarmGraph.evaluationOrder(of: ["top": ["mid", "m1"], "mid": ["m2"]]) == ["mid", "top"])
        let (_, errors) = AlertFileParser.parse(
            #"""
            composite_alarms:
              - {name: x, rule: 'ALARM("y")'}
              - {name: y, rule: 'OK("z") OR ALARM("x")'}
              - {name: z, rule: 'TRUE'}
              - {name: self, rule: 'ALARM("self")'}
            """#, file: "c.yaml")
        #expect(
            errors.map(\.description) == [
                "c.yaml:5: composite_alarms[3].rule: composite alarms form a cycle: self → self"
            ])
        var config = AlertConfiguration()
        config =
            AlertFileParser.parse(
                #"""
                composite_alarms:
                  - {name: x, rule: 'ALARM("y")'}
                  - {name: y, rule: 'OK("z") OR ALARM("x")'}
                  - {name: z, rule: 'TRUE'}
                """#, file: "c.yaml"
            ).0
        #expect(config.crossCheck().map(\.description) == ["c.yaml:2: rule: composite alarms form a cycle: x → y → x"])
    }

    /// Records every run of actions as "alarm → STATE".
    final class ActionLog: Sendable {
        let entries = Mutex<[String]>([])
        func take() -> [String] {
            entries.withLock { e in
                defer { e = [] }
                return e
            }
        }
    }

    static func engine(_ yaml: String, log: ActionLog) async throws -> AlarmEngine {
        let engine = try await AlarmEngine(
            source: RecordedSeries(), store: nil, parallelism: 1,
            runActions: { t in
                log.entries.withLock { $0.append("\(t.alarm.name) → \(t.newState.rawValue)") }
                return t.topics.map { AlarmEngine.ActionOutcome(topic: $0) }
            })
        let (config, errors) = AlertFileParser.parse(yaml, file: "t.yaml")
        #expect(errors.isEmpty, "\(errors)")
        try await engine.install(config, now: 0, extraTopics: ["ops"])
        return engine
    }

    static let suppressed = """
        alarms:
          - {name: child, namespace: T, metric: m, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, treat_missing_data: ignore}
          - {name: maintenance, namespace: T, metric: n, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, treat_missing_data: ignore}
        composite_alarms:
          - name: parent
            rule: ALARM("child")
            alarm_actions: [ops]
            ok_actions: [ops]
            actions_suppressor: maintenance
            wait_period: 30
            extension_period: 60
        """

    @Test func actionsWaitForTheSuppressorAndFollowItsExtension() async throws {
        let log = ActionLog()
        let engine = try await Self.engine(Self.suppressed, log: log)
        var t: Int64 = 1_800_000_000
        await engine.tick(now: t)
        _ = log.take()
        // The child alarms; the suppressor is not in ALARM: the actions wait out the wait period.
        try await engine.setState("child", .alarm, reason: "test", now: t)
        #expect(engine.status("parent")?.state == .alarm)
        #expect(log.take() == [])
        t += 10
        await engine.tick(now: t)
        #expect(log.take() == [])
        t += 30
        await engine.tick(now: t)
        #expect(log.take() == ["parent → ALARM"])

        // The child recovers: OK actions run normally.
        try await engine.setState("child", .ok, reason: "test", now: t)
        #expect(log.take() == ["parent → OK"])

        // With the suppressor in ALARM, the composite's actions are held until it leaves ALARM plus the extension.
        try await engine.setState("maintenance", .alarm, reason: "maintenance window", now: t)
        try await engine.setState("child", .alarm, reason: "test", now: t)
        #expect(engine.status("parent")?.state == .alarm)
        t += 120
        await engine.tick(now: t)
        #expect(log.take() == [])
        try await engine.setState("maintenance", .ok, reason: "done", now: t)
        t += 50
        await engine.tick(now: t)
        #expect(log.take() == [], "still inside the extension period")
        t += 20
        await engine.tick(now: t)
        #expect(log.take() == ["parent → ALARM"])

        // A composite set by hand holds until the next tick, then follows its rule again.
        try await engine.setState("parent", .ok, reason: "by hand", now: t)
        #expect(engine.status("parent")?.state == .ok)
        #expect(log.take() == ["parent → OK"])
        t += 10
        await engine.tick(now: t)
        #expect(engine.status("parent")?.state == .alarm)

        // Suppressed, then the child recovers while still suppressed: neither ALARM nor OK actions run.
        try await engine.setState("child", .ok, reason: "test", now: t)
        _ = log.take()
        try await engine.setState("maintenance", .alarm, reason: "again", now: t)
        try await engine.setState("child", .alarm, reason: "test", now: t)
        try await engine.setState("child", .ok, reason: "test", now: t)
        #expect(log.take() == [])
    }
}
