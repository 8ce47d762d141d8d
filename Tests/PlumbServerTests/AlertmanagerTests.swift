import Foundation
import PlumbServer
import PlumbTesting
import Testing

/// Plumb as an Alertmanager client, end to end with real peers: a real `plumb serve`, a real Prometheus
/// Alertmanager (Debian's `prometheus-alertmanager`) on loopback with a temporary config and storage directory,
/// and the real webhook receiver Alertmanager notifies (Tests/peers/webhook_receiver.py).
@Suite("Alertmanager client end to end", .serialized)
struct AlertmanagerTests {

    /// What Alertmanager posted to the receiver: each notification's status and its alerts.
    static func notifications(_ log: String) -> [(status: String, alerts: [[String: Any]])] {
        PeerRecords.jsonLines(log).compactMap { record in
            guard let body = record["body"] as? [String: Any], let status = body["status"] as? String else {
                return nil
            }
            return (status, body["alerts"] as? [[String: Any]] ?? [])
        }
    }

    @Test(
        "Alertmanager receives Plumb's alarm, keeps it alive with re-sends, and delivers firing then resolved to its receiver"
    )
    func firingThenResolved() async throws {
        let root = TemporaryDirectory("plumb-am")
        defer { root.remove() }
        let hookLog = root.path + "/receiver.jsonl"
        let receiver = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { receiver.stop() }
        let alertmanager = try await AlertmanagerProcess(
            config: """
                route:
                  receiver: plumb-test
                  group_by: [alertname]
                  group_wait: 1s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: plumb-test
                    webhook_configs:
                      - url: http://127.0.0.1:\(receiver.port)/alertmanager
                        send_resolved: true
                """, directory: root.path)
        defer { alertmanager.stop() }
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        try """
        topics:
          - name: pager
            subscriptions:
              - {protocol: alertmanager, endpoint: "\(alertmanager.baseURL)"}
        alarms:
          - name: am-latency
            description: Checkout latency is above 100 ms
            namespace: Test/AM
            metric: Latency
            dimensions: {Function: checkout.pay}
            statistic: Maximum
            period: 10
            evaluation_periods: 1
            comparison: GreaterThanThreshold
            threshold: 100
            treat_missing_data: ignore
            severity: critical
            alarm_actions: [pager]
            ok_actions: [pager]
        """.write(toFile: root.path + "/alerts/am.yaml", atomically: true, encoding: .utf8)
        let server = try await ServerProcess.start(
            config: """
                alerts: \(root.path)/alerts
                alertmanager: {resend_interval: 2}
                """, in: root)
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        let token = server.token

        func alarmState() async throws -> String? {
            json(try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/am-latency", token: token).1)["state"]
                as? String
        }
        func put(_ value: Double) async throws {
            let body =
                #"{"namespace": "Test/AM", "data": [{"name": "Latency", "dimensions": {"Function": "checkout.pay"}, "value": \#(value), "unit": "Milliseconds", "storageResolution": 1}]}"#
            let (status, _) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/metrics", body: Array(body.utf8), token: token)
            #expect(status == 200 || status == 204)
        }

        // ALARM: the alert reaches Alertmanager, which notifies its receiver "firing".
        try await put(250)
        try await waitUntil("ALARM", timeout: .seconds(30), every: .milliseconds(200)) {
            try await alarmState() == "ALARM"
        }
        try await waitUntil("the firing notification", timeout: .seconds(15), every: .milliseconds(200)) {
            Self.notifications(hookLog).contains { $0.status == "firing" }
        }
        let firing = try #require(Self.notifications(hookLog).first { $0.status == "firing" })
        #expect(firing.alerts.count == 1)
        let alert = try #require(firing.alerts.first)
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(
            labels == [
                "alertname": "am-latency", "namespace": "Test/AM", "metric": "Latency", "Function": "checkout.pay",
                "severity": "critical",
            ])
        let annotations = try #require(alert["annotations"] as? [String: String])
        #expect(
            annotations["summary"]?.hasPrefix("Threshold Crossed: 1 out of the last 1 datapoints [250.0") == true,
            "\(annotations)")
        #expect(annotations["description"] == "Checkout latency is above 100 ms")
        // The generator URL is the alarm's signed page, which opens without a token (the API link needed one).
        let generator = alert["generatorURL"] as? String ?? ""
        #expect(
            generator.hasPrefix(server.baseURL + "/alarms/am-latency?") && generator.contains("sig="), "\(generator)")

        // Re-sent while firing, as Prometheus does: Alertmanager sees the alert updated, its endsAt kept ahead
        // (4 × the 2 s resend interval).
        let held = try #require(
            try await alertmanager.alerts().first { ($0["labels"] as? [String: String])?["alertname"] == "am-latency" })
        let firstUpdate = try #require(held["updatedAt"] as? String)
        let endsAt = try #require(Self.date(held["endsAt"] as? String))
        // Measured from when Alertmanager took the alert, not from now: a loaded machine can read it seconds later.
        let updatedAt = try #require(Self.date(firstUpdate))
        let ahead = endsAt.timeIntervalSince(updatedAt)
        #expect(ahead > 0 && ahead <= 9, "endsAt \(endsAt) is about 8 s after the update \(updatedAt)")
        #expect((held["status"] as? [String: Any])?["state"] as? String == "active")
        try await waitUntil("a re-send", timeout: .seconds(15), every: .milliseconds(200)) {
            let again = try await alertmanager.alerts().first {
                ($0["labels"] as? [String: String])?["alertname"] == "am-latency"
            }
            return (again?["updatedAt"] as? String).map { $0 != firstUpdate } ?? false
        }
        // Longer than endsAt was ahead: only the re-sends keep it active.
        try await Task.sleep(for: .seconds(10))
        let still = try await alertmanager.alerts().first {
            ($0["labels"] as? [String: String])?["alertname"] == "am-latency"
        }
        #expect(
            (still?["status"] as? [String: Any])?["state"] as? String == "active",
            "still active 10 s later: \(String(describing: still))")
        #expect(!Self.notifications(hookLog).contains { $0.status == "resolved" }, "not resolved while the alarm fires")

        // OK: one send with endsAt = the state change; Alertmanager notifies "resolved" under the same labels.
        try await put(5)
        try await waitUntil("OK", timeout: .seconds(30), every: .milliseconds(200)) { try await alarmState() == "OK" }
        try await waitUntil("the resolved notification", timeout: .seconds(15), every: .milliseconds(200)) {
            Self.notifications(hookLog).contains { $0.status == "resolved" }
        }
        let resolved = try #require(Self.notifications(hookLog).first { $0.status == "resolved" })
        let resolvedAlert = try #require(resolved.alerts.first)
        #expect(resolvedAlert["status"] as? String == "resolved")
        #expect(resolvedAlert["labels"] as? [String: String] == labels)
        #expect(
            (resolvedAlert["annotations"] as? [String: String])?["summary"]?.contains("[5.0") == true,
            "the OK reason: \(resolvedAlert)")
        let ended = try #require(Self.date(resolvedAlert["endsAt"] as? String))
        #expect(ended.timeIntervalSinceNow < 1, "endsAt is the state change, not the future")

        // Through the outbox: one delivery to the Alertmanager, re-sent in place, delivered.
        var list: [[String: Any]] = []
        try await waitUntil("the resolved send recorded", timeout: .seconds(5), every: .milliseconds(200)) {
            list =
                json(try await HTTP.request("GET", server.baseURL + "/api/v1/deliveries?topic=pager", token: token).1)[
                    "deliveries"] as? [[String: Any]] ?? []
            return list.first?["status"] as? String == "delivered"
        }
        #expect(list.count == 1 && list.first?["protocol"] as? String == "alertmanager", "\(list)")
        print("alertmanager notifications: \(Self.notifications(hookLog).map(\.status))")
    }

    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// The `alertmanager:` section of the server's config.
@Suite struct AlertmanagerConfigTests {
    @Test func resendIntervalDefaultsToAMinuteAndIsBounded() throws {
        #expect(try ListenerConfigTests.load("listen: 127.0.0.1:0\n").alertmanager.resendInterval == 60)
        #expect(try ListenerConfigTests.load("alertmanager: {resend_interval: 15}\n").alertmanager.resendInterval == 15)
        for bad in ["0", "3601", "-5"] {
            #expect(throws: ConfigError.self) {
                try ListenerConfigTests.load("alertmanager: {resend_interval: \(bad)}\n")
            }
        }
    }
}
