import Foundation
import GRDB
import PlumbAPI
import PlumbNotify
import PlumbTesting
import Testing

/// The Alertmanager client's pieces on a real outbox file: the alert body, the endpoint checks, and the record that
/// decides what each send says (firing, re-sent, resolved, superseded).
@Suite struct AlertmanagerClientTests {
    let now: Int64 = 1_795_341_600

    static func alarmMessage(
        _ state: String, reason: String = "Threshold Crossed", severity: String? = "critical"
    ) -> AlarmMessage {
        var message = AlarmMessage(
            alarmName: "api-errors", alarmDescription: "Errors of the API", alarmType: "metric",
            oldState: state == "ALARM" ? "OK" : "ALARM",
            newState: state, reason: reason, time: "2026-11-22T10:00:00Z",
            metric: .init(
                namespace: "Plumb/Functions", name: "Errors",
                dimensions: ["Function": "sentiment.classify", "alertname": "spoof"], statistic: "Sum", period: 60),
            url: "http://plumb:9400/api/v1/alarms/api-errors")
        message.severity = severity
        return message
    }

    /// Publishes an alarm state change as the alarm engine does (its attributes name the alarm and the state).
    func publish(
        _ outbox: Outbox, _ state: String, reason: String = "Threshold Crossed", at time: Int64
    ) throws -> String {
        let json = String(decoding: try JSONEncoder().encode(Self.alarmMessage(state, reason: reason)), as: UTF8.self)
        return try outbox.publish(
            topic: "ops", subject: "\(state): api-errors", message: json,
            attributes: [AlarmMessage.eventAttribute: AlarmMessage.eventValue, "alarm": "api-errors", "state": state],
            now: time)
    }

    func outbox(_ dir: TemporaryDirectory) throws -> (Outbox, String) {
        let outbox = try Outbox(directory: dir.path, durability: .full)
        try outbox.syncFileTopics(
            [
                TopicDefinition(
                    name: "ops",
                    subscriptions: [
                        SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://127.0.0.1:9093"),
                        SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/hook"),
                    ])
            ], now: now)
        let id = try #require(
            try outbox.subscriptions(topic: "ops").first { $0.definition.protocol == .alertmanager }?.id)
        return (outbox, id)
    }

    @Test func anAlarmBecomesOneLabelledAlertInAJSONArray() throws {
        let alert = PostableAlert.alarm(
            Self.alarmMessage("ALARM"), startsAt: now, endsAt: now + 240, fallbackURL: "http://x")
        #expect(
            alert.labels == [
                "alertname": "api-errors", "namespace": "Plumb/Functions", "metric": "Errors",
                "Function": "sentiment.classify",
                "severity": "critical",
            ], "a dimension named alertname does not override the alarm's name")
        #expect(alert.annotations == ["summary": "Threshold Crossed", "description": "Errors of the API"])
        #expect(alert.startsAt == "2026-11-22T10:00:00Z")
        #expect(alert.endsAt == "2026-11-22T10:04:00Z")
        #expect(alert.generatorURL == "http://plumb:9400/api/v1/alarms/api-errors")
        let array = try #require(
            try JSONSerialization.jsonObject(with: PostableAlert.body([alert])) as? [[String: Any]])
        #expect(array.count == 1)
        #expect(Set(array[0].keys) == ["labels", "annotations", "startsAt", "endsAt", "generatorURL"])
        let noSeverity = PostableAlert.alarm(
            Self.alarmMessage("ALARM", severity: nil), startsAt: now, endsAt: now, fallbackURL: "http://x")
        #expect(noSeverity.labels["severity"] == nil)
    }

    @Test func formatNamesAndEndpointsSayWhatTheyAre() {
        #expect(WebhookFormat(named: "alertmanager-webhook") == .alertmanagerWebhook)
        #expect(WebhookFormat(named: "alertmanager") == .alertmanagerWebhook, "the old name still reads")
        #expect(WebhookFormat(named: "prometheus") == nil)
        #expect(AlertmanagerEndpoint.alertsURL("http://am:9093") == "http://am:9093/api/v2/alerts")
        #expect(AlertmanagerEndpoint.alertsURL("http://am:9093/prefix/") == "http://am:9093/prefix/api/v2/alerts")
        #expect(AlertmanagerEndpoint.alertsURL("http://am:9093/api/v2/alerts") == "http://am:9093/api/v2/alerts")
        // The README's old example: the webhook body posted to Alertmanager's API, which refuses it.
        let misdirected = SubscriptionDefinition(
            protocol: .webhook, endpoint: "http://127.0.0.1:9093/api/v2/alerts", format: .alertmanagerWebhook)
        #expect(misdirected.problem()?.message.contains("use protocol: alertmanager") == true)
        #expect(
            SubscriptionDefinition(protocol: .webhook, endpoint: "http://hooks/x", format: .alertmanagerWebhook)
                .problem() == nil)
        #expect(
            SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://am:9093/api/v1/alerts").problem()?.message
                .contains("v1") == true)
        #expect(SubscriptionDefinition(protocol: .alertmanager, endpoint: "am:9093").problem()?.field == "endpoint")
        #expect(
            SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://am:9093", secret: "0123456789abcdef0")
                .problem()?.field == "secret")
        #expect(SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://am:9093").problem() == nil)
    }

    @Test func alarmThenOKQueuesOneDeliveryThatEndsResolved() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (outbox, sub) = try outbox(dir)
        let firing = try publish(outbox, "ALARM", at: now)
        let deliveries = try outbox.deliveries(limit: 10)
        #expect(deliveries.count == 2, "one to the Alertmanager, one to the webhook")
        let toAM = try #require(deliveries.first { $0.subscriptionID == sub })
        #expect(toAM.messageID == firing)
        var alert = try #require(try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
        #expect(alert.isFiring && alert.messageID == firing && alert.startsAt == now)

        // Sent: a re-send is due only after the interval, and only while the alarm is in ALARM.
        try outbox.markDelivered(toAM.id, attempts: 1, now: Double(now))
        try outbox.recordAlertmanagerSend(alert, state: "firing", now: Double(now))
        #expect(try outbox.refreshAlertmanagerAlerts(firing: ["api-errors"], interval: 60, now: Double(now + 30)) == 0)
        #expect(try outbox.refreshAlertmanagerAlerts(firing: ["api-errors"], interval: 60, now: Double(now + 60)) == 1)
        #expect(
            try outbox.deliveries(limit: 10).first { $0.id == toAM.id }?.status == "pending",
            "the same delivery, pending again")
        try outbox.markDelivered(toAM.id, attempts: 1, now: Double(now + 61))

        // OK: no new delivery to the Alertmanager; the firing one goes again and the record says resolved.
        let ok = try publish(outbox, "OK", reason: "Threshold Crossed: back under", at: now + 90)
        let after = try outbox.deliveries(limit: 10)
        #expect(after.filter { $0.subscriptionID == sub }.count == 1)
        #expect(
            after.contains { $0.messageID == ok && $0.subscriptionID != sub }, "the webhook gets the OK message itself")
        #expect(after.first { $0.id == toAM.id }?.status == "pending")
        alert = try #require(try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
        #expect(alert.endsAt == now + 90 && alert.resolvedBy == ok)
        try outbox.recordAlertmanagerSend(alert, state: "resolved", now: Double(now + 91))
        #expect(
            try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors") == nil, "a resolved alert is over")
        // An OK with nothing firing sends nothing.
        _ = try publish(outbox, "OK", at: now + 120)
        #expect(try outbox.deliveries(limit: 10).filter { $0.subscriptionID == sub }.count == 1)
    }

    @Test func anAlarmThatLeavesALARMUnannouncedIsResolvedAndAReFireSupersedes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (outbox, sub) = try outbox(dir)
        let first = try publish(outbox, "ALARM", at: now)
        let firstDelivery = try #require(try outbox.deliveries(limit: 10).first { $0.subscriptionID == sub })
        try outbox.markDelivered(firstDelivery.id, attempts: 1, now: Double(now))
        // The alarm went to INSUFFICIENT_DATA with no action (or a silence held it): the refresh ends the alert.
        #expect(try outbox.refreshAlertmanagerAlerts(firing: [], interval: 60, now: Double(now + 10)) == 1)
        let ended = try #require(try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
        #expect(ended.endsAt == now + 10 && ended.resolvedBy == nil && ended.messageID == first)
        // It fires again before the resolved send went out: the new message carries the alert, the old one is stale.
        let second = try publish(outbox, "ALARM", at: now + 20)
        let record = try #require(try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
        #expect(record.messageID == second && record.isFiring && record.startsAt == now + 20)
        #expect(record.messageID != first)
        // A removed subscription takes its alerts along.
        try outbox.syncFileTopics([TopicDefinition(name: "ops")], now: now + 30)
        try outbox.refreshAlertmanagerAlerts(firing: ["api-errors"], interval: 60, now: Double(now + 30))
        #expect(try outbox.alertmanagerAlerts().isEmpty)
    }

    @Test func oldFormatNameInTheStoreIsReadAsTheNewOne() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let outbox = try Outbox(directory: dir.path, durability: .full)
            try outbox.syncFileTopics(
                [
                    TopicDefinition(
                        name: "ops",
                        subscriptions: [
                            SubscriptionDefinition(
                                protocol: .webhook, endpoint: "http://hooks/am", format: .alertmanagerWebhook)
                        ])
                ], now: now)
            // As an older version stored it.
            try outbox.database.pool.write { try $0.execute(sql: "UPDATE subscriptions SET format = 'alertmanager'") }
        }
        let reopened = try Outbox(directory: dir.path, durability: .full)
        #expect(try reopened.subscriptions(topic: "ops").first?.definition.format == .alertmanagerWebhook)
    }

    /// Runs the delivery service until `condition` holds (or 30 s pass: a loaded CI machine starts many servers
    /// at once); on a timeout the deliveries' states are in the failure.
    func deliver(_ outbox: Outbox, until condition: () throws -> Bool) async throws {
        let service = DeliveryService(
            outbox: outbox, settings: .init(publicURL: "http://plumb:9400", pollInterval: .milliseconds(50)))
        let running = Task { try await service.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let states = try await outbox.deliveries(limit: 10).map {
            "\($0.messageID): \($0.status), \($0.attempts) attempts, next at \($0.nextAttemptAt), "
                + "last error \($0.lastError ?? "none")"
        }
        Issue.record("the deliveries did not reach the expected state within 30 s: \(states)")
    }

    @Test func theSenderPostsWhatIsTrueWhenItRunsAndSkipsASupersededAlert() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let log = dir.path + "/am.jsonl"
        // The receiver stands in for Alertmanager's API: it records each POST's path and JSON body.
        let receiver = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", log], logDirectory: dir.path)
        defer { receiver.stop() }
        let outbox = try Outbox(directory: dir.path, durability: .full)
        try outbox.syncFileTopics(
            [
                TopicDefinition(
                    name: "ops",
                    subscriptions: [
                        SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://127.0.0.1:\(receiver.port)/")
                    ])
            ], now: now)
        let sub = try #require(try outbox.subscriptions(topic: "ops").first?.id)
        let clock = Int64(Date().timeIntervalSince1970)
        // ALARM, OK and ALARM again before anything was sent: the first alert is stale when its turn comes.
        let first = try publish(outbox, "ALARM", at: clock - 30)
        _ = try publish(outbox, "OK", at: clock - 20)
        let second = try publish(outbox, "ALARM", reason: "Threshold Crossed again", at: clock - 10)
        try await deliver(outbox) { try outbox.deliveries(status: "pending", limit: 10).isEmpty }
        let deliveries = try await outbox.deliveries(limit: 10)
        #expect(deliveries.first { $0.messageID == first }?.status == "superseded")
        #expect(deliveries.first { $0.messageID == second }?.status == "delivered")
        var posts = PeerRecords.jsonLines(log)
        #expect(posts.count == 1, "the superseded alert was not sent: \(posts)")
        #expect(posts.first?["path"] as? String == "/api/v2/alerts")
        let firing = try #require((posts.first?["body"] as? [[String: Any]])?.first)
        #expect((firing["annotations"] as? [String: String])?["summary"] == "Threshold Crossed again")
        #expect(firing["startsAt"] as? String == WebhookPayloadTime.iso(clock - 10))
        let endsAt = try #require(ISO8601DateFormatter().date(from: firing["endsAt"] as? String ?? ""))
        #expect(
            endsAt.timeIntervalSinceNow > 200 && endsAt.timeIntervalSinceNow <= 241,
            "4 × the 60 s resend interval ahead: \(endsAt)")
        #expect(try outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors")?.sentState == "firing")

        // OK: the same delivery goes again and says resolved, with endsAt the state change; then the alert is over.
        _ = try publish(outbox, "OK", reason: "Threshold Crossed: back under", at: clock)
        try await deliver(outbox) { try PeerRecords.jsonLines(log).count == 2 && outbox.alertmanagerAlerts().isEmpty }
        posts = PeerRecords.jsonLines(log)
        let resolved = try #require((posts.last?["body"] as? [[String: Any]])?.first)
        #expect(resolved["endsAt"] as? String == WebhookPayloadTime.iso(clock))
        #expect(resolved["startsAt"] as? String == WebhookPayloadTime.iso(clock - 10))
        #expect((resolved["annotations"] as? [String: String])?["summary"] == "Threshold Crossed: back under")
        #expect(resolved["labels"] as? [String: String] == firing["labels"] as? [String: String])
    }
}

/// RFC 3339 in whole seconds, UTC, as the alerts carry times.
enum WebhookPayloadTime {
    static func iso(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}
