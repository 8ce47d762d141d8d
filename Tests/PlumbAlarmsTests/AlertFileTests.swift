import Foundation
import PlumbAlarms
import PlumbServer
import PlumbTesting
import Testing

@Suite struct AlertFileTests {
    @Test func everyErrorNamesFileLineAndField() {
        let (_, errors) = AlertFileParser.parse(
            """
            topics:
              - name: "bad topic"
                subscriptions:
                  - {protocol: pigeon, endpoint: x}
                  - {protocol: email, endpoint: not-an-address}
                  - {protocol: webhook, endpoint: "ftp://x/y"}
            alarms:
              - name: a
                namespace: N
                metric: M
                statistic: Sum
                period: 60
                evaluation_periods: 2000
                comparison: GreaterThanThreshold
                threshold: .inf
            unknown_section: 1
            """, file: "x.yaml")
        let text = errors.map(\.description)
        for expected in [
            "x.yaml:16: unknown_section: unknown field",
            "x.yaml:2: topics[0].name: a topic name may hold only letters, digits, '-' and '_'",
            "x.yaml:4: topics[0].subscriptions[0].protocol: 'pigeon' is not one of email, webhook",
            "x.yaml:5: topics[0].subscriptions[1].endpoint: 'not-an-address' is not an email address",
            "x.yaml:6: topics[0].subscriptions[2].endpoint: a webhook endpoint is an http:// or https:// URL",
            "x.yaml:13: alarms[0].evaluation_periods: period × evaluation_periods is 120000 s; at most 86400 s (one day)",
            "x.yaml:15: alarms[0].threshold: '.inf' is not a finite number",
        ] {
            #expect(text.contains { $0.hasPrefix(expected) }, "missing: \(expected)\ngot: \(text)")
        }
        let (_, syntax) = AlertFileParser.parse("alarms:\n  - name: a\n   bad: [", file: "y.yaml")
        #expect(syntax.count == 1 && syntax[0].file == "y.yaml" && syntax[0].line == 3)
    }

    @Test func actionsMustNameDeclaredTopics() {
        let (config, errors) = AlertFileParser.parse(
            """
            alarms:
              - {name: a, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: LessThanThreshold, threshold: 1, alarm_actions: [nowhere]}
            """, file: "z.yaml")
        #expect(errors.isEmpty)
        #expect(
            config.crossCheck().map(\.description) == [
                "z.yaml:2: actions: alarm 'a' notifies topic 'nowhere', which is not declared"
            ])
        #expect(config.crossCheck(extraTopics: ["nowhere"]).isEmpty)
    }

    @Test func alertmanagerSubscriptionsFormatNamesAndSeverity() throws {
        let (config, errors) = AlertFileParser.parse(
            """
            topics:
              - name: pager
                subscriptions:
                  - {protocol: alertmanager, endpoint: "http://127.0.0.1:9093"}
                  - {protocol: webhook, endpoint: "https://hooks.example.com/am", format: alertmanager-webhook}
                  - {protocol: webhook, endpoint: "https://hooks.example.com/old", format: alertmanager}
            alarms:
              - {name: a, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: LessThanThreshold, threshold: 1, severity: critical}
            composite_alarms:
              - {name: c, rule: 'ALARM("a")', severity: warning}
            """, file: "am.yaml")
        #expect(errors.isEmpty, "\(errors)")
        let subscriptions = try #require(config.topics.first?.subscriptions)
        #expect(subscriptions.map(\.protocol) == [.alertmanager, .webhook, .webhook])
        #expect(
            subscriptions.map(\.format) == [.plumb, .alertmanagerWebhook, .alertmanagerWebhook],
            "the old name reads as the new one")
        #expect(config.alarms.map(\.severity) == ["critical", "warning"])

        let (_, refused) = AlertFileParser.parse(
            """
            topics:
              - name: pager
                subscriptions:
                  - {protocol: webhook, endpoint: "http://127.0.0.1:9093/api/v2/alerts", format: alertmanager}
                  - {protocol: alertmanager, endpoint: "http://127.0.0.1:9093", format: alertmanager-webhook}
                  - {protocol: alertmanager, endpoint: "http://127.0.0.1:9093/api/v1/alerts"}
                  - {protocol: webhook, endpoint: "https://hooks.example.com/x", format: prometheus}
            alarms:
              - {name: a, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: LessThanThreshold, threshold: 1, severity: ""}
            """, file: "bad.yaml")
        let text = refused.map(\.description)
        for expected in [
            "bad.yaml:4: topics[0].subscriptions[0].endpoint: 'http://127.0.0.1:9093/api/v2/alerts' is Alertmanager's own API",
            "bad.yaml:5: topics[0].subscriptions[1].format: applies to webhooks only",
            "bad.yaml:6: topics[0].subscriptions[2].endpoint: Alertmanager's v1 API is gone",
            "bad.yaml:7: topics[0].subscriptions[3].format: 'prometheus' must be plumb, alertmanager-webhook or sns",
            "bad.yaml:9: alarms[0].severity: a severity has 1 to 64 printable characters",
        ] {
            #expect(text.contains { $0.hasPrefix(expected) }, "missing: \(expected)\ngot: \(text)")
        }
        #expect(text.first { $0.contains("own API") }?.contains("use protocol: alertmanager") == true)
    }

    @Test func shippedAlertFilesAndTheirTestsPass() async {
        let (config, errors) = AlertFileParser.load(directory: Checkout.root + "/alerts")
        #expect(errors.isEmpty, "\(errors)")
        #expect(config.alarms.count >= 5)
        for file in AlertFileParser.alertFiles(in: Checkout.root + "/alerts/tests") {
            let outcome = await AlarmTestRunner.run(file: file)
            #expect(outcome.ok, "\(outcome.failures)")
            #expect(!outcome.passed.isEmpty)
        }
    }

    @Test func theTestRunnerReportsEveryFailedExpectation() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try """
        alarms:
          - {name: t, namespace: N, metric: M, statistic: Maximum, period: 60, evaluation_periods: 3, datapoints_to_alarm: 2, comparison: GreaterThanThreshold, threshold: 1}
        tests:
          - name: right
            series: [{namespace: N, metric: M, period: 60, values: "0 _ 5 _ 5"}]
            expect: {t: ALARM}
          - name: wrong
            series: [{namespace: N, metric: M, period: 60, values: "0 0 0"}]
            expect: {t: ALARM}
          - name: also wrong
            series: [{namespace: N, metric: M, period: 60, values: "_ _ _ _ _"}]
            expect: {t: OK}
        """.write(toFile: dir.path + "/t.yaml", atomically: true, encoding: .utf8)
        let outcome = await AlarmTestRunner.run(file: dir.path + "/t.yaml")
        #expect(outcome.passed == ["right"])
        #expect(outcome.failures.count == 2)
        #expect(outcome.failures[0].contains("test 'wrong': alarm 't' expected ALARM, got OK"))
        #expect(outcome.failures[1].contains("test 'also wrong': alarm 't' expected OK, got INSUFFICIENT_DATA"))
        #expect(outcome.failures[0].hasPrefix(dir.path + "/t.yaml:7:"))
    }
}
