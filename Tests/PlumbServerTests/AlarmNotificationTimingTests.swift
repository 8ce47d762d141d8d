import Foundation
import PlumbTesting
import Testing

/// The end-to-end latency of an alarm notification: a real `plumb serve`, a real SMTP server (aiosmtpd) and a real
/// webhook receiver (Tests/peers/). A time limit, so it runs in the serial timing pass (`scripts/test.sh`), not
/// beside the whole parallel suite, where a loaded machine measures the machine.
@Suite("Alarm notification latency end to end", .serialized)
struct AlarmNotificationTimingTests {
    @Test("a breach reaches email and a signed webhook within 2 s of the evaluation")
    func breachToEmailAndWebhook() async throws {
        let root = TemporaryDirectory("plumb-e2e")
        defer { root.remove() }
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        defer { smtp.stop() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog, "--secret", AlarmNotificationTests.secret],
            logDirectory: root.path)
        defer { hook.stop() }
        try AlarmNotificationTests.write(
            """
            topics:
              - name: ops
                subscriptions:
                  - {protocol: email, endpoint: oncall@example.com}
                  - {protocol: webhook, endpoint: "http://127.0.0.1:\(hook.port)/hook", secret_env: E2E_HOOK_SECRET}
            alarms:
              - name: e2e-latency
                namespace: Test/E2E
                metric: Latency
                statistic: Maximum
                period: 10
                evaluation_periods: 1
                comparison: GreaterThanThreshold
                threshold: 100
                treat_missing_data: notBreaching
                alarm_actions: [ops]
            """, to: root.path + "/alerts/e2e.yaml")
        try AlarmNotificationTests.write(
            """
            alerts: \(root.path)/alerts
            smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: plumb@example.com}
            """, to: root.path + "/plumb.yaml")
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"],
            environment: ["E2E_HOOK_SECRET": AlarmNotificationTests.secret])
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        try await server.waitReady()
        let token = server.token

        func alarm() async throws -> [String: Any] {
            json(try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/e2e-latency", token: token).1)
        }
        // The first evaluation finds no data: OK (missing data is not breaching); no action is configured for OK.
        try await waitUntil("the first evaluation", timeout: .seconds(25), every: .milliseconds(200)) {
            try await alarm()["state"] as? String == "OK"
        }

        let body =
            #"{"namespace": "Test/E2E", "data": [{"name": "Latency", "value": 250, "unit": "Milliseconds", "storageResolution": 1}]}"#
        let (status, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/metrics", body: Array(body.utf8), token: token)
        #expect(status == 204 || status == 200)

        try await waitUntil("ALARM", timeout: .seconds(25), every: .milliseconds(200)) {
            try await alarm()["state"] as? String == "ALARM"
        }
        let described = try await alarm()
        let changedAt = try #require(described["stateUpdatedAt"] as? String)
        let evaluatedAt = try #require(ISO8601DateFormatter().date(from: changedAt)).timeIntervalSince1970
        #expect(
            (described["stateReason"] as? String)?.hasPrefix(
                "Threshold Crossed: 1 out of the last 1 datapoints [250.0 (") == true)

        try await waitUntil("the webhook", timeout: .seconds(10), every: .milliseconds(200)) {
            !PeerRecords.jsonLines(hookLog).isEmpty
        }
        try await waitUntil("the email", timeout: .seconds(10), every: .milliseconds(200)) {
            !PeerRecords.jsonFiles(root.path + "/mail").isEmpty
        }

        let hookRecord = try #require(PeerRecords.jsonLines(hookLog).first)
        #expect(hookRecord["signature_valid"] as? Bool == true)
        let payload = try #require(hookRecord["body"] as? [String: Any])
        #expect(payload["type"] as? String == "Notification")
        #expect(payload["topic"] as? String == "ops")
        #expect(payload["messageId"] as? String == hookRecord["header_message_id"] as? String)
        let message = json(Array((payload["message"] as? String ?? "").utf8))
        #expect(message["alarmName"] as? String == "e2e-latency")
        #expect(message["oldState"] as? String == "OK")
        #expect(message["newState"] as? String == "ALARM")
        #expect(message["threshold"] as? Double == 100)

        let mail = try #require(PeerRecords.jsonFiles(root.path + "/mail").first)
        #expect(mail["subject"] as? String == "ALARM: \"e2e-latency\" in Plumb")
        #expect(mail["rcpt_tos"] as? [String] == ["oncall@example.com"])
        let parts = try #require(mail["parts"] as? [String: String])
        #expect(parts["text/plain"]?.contains("OK → ALARM") == true)
        // The link is the signed alarm page, which opens without a token (the API needs one); the chart rides along.
        #expect(
            parts["text/html"]?.contains("/alarms/e2e-latency?exp=") == true
                && parts["text/html"]?.contains("/api/v1/alarms/") == false)
        let chart = try #require(
            parts["image/png"].flatMap { Data(base64Encoded: $0) }, "the mail carries the chart as a PNG")
        #expect(chart.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(mail["defects"] as? [String] == [])
        #expect(mail["x_plumb_message_id"] as? String == payload["messageId"] as? String)

        // Within 2 s of the evaluation that changed the state (stateUpdatedAt is whole seconds, so this allows less).
        let webhookLatency = try #require(hookRecord["received"] as? Double) - evaluatedAt
        let emailLatency = try #require(mail["received"] as? Double) - evaluatedAt
        print("notification latency after the evaluation: webhook \(webhookLatency) s, email \(emailLatency) s")
        #expect(webhookLatency < 2)
        #expect(emailLatency < 2)

        let history = json(
            try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/e2e-latency/history", token: token).1)
        let summaries = (history["history"] as? [[String: Any]] ?? []).compactMap { $0["summary"] as? String }
        #expect(summaries.contains("Alarm updated from OK to ALARM"))
        #expect(summaries.contains("Successfully executed action ops"))

        // SIGHUP reloads the files: a new alarm appears without a restart.
        try AlarmNotificationTests.write(
            (try String(contentsOfFile: root.path + "/alerts/e2e.yaml", encoding: .utf8)) + """

                  - name: e2e-added
                    namespace: Test/E2E
                    metric: Latency
                    statistic: SampleCount
                    period: 60
                    evaluation_periods: 1
                    comparison: GreaterThanOrEqualToThreshold
                    threshold: 1
                """, to: root.path + "/alerts/e2e.yaml")
        kill(server.process.processIdentifier, SIGHUP)
        try await waitUntil("the reload", timeout: .seconds(10), every: .milliseconds(200)) {
            try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/e2e-added", token: token).0 == 200
        }
    }
}
