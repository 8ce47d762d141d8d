import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// Usage, cost and budgets on a real `plumb serve`, against independent counts: a real SMTP server (aiosmtpd) and
/// webhook receiver count the notifications, the test counts what it sends, and `plumb usage`/`plumb cost` read it
/// back.
@Suite("Usage end to end")
struct UsageEndToEndTests {
    static func usage(_ server: ServerProcess, by: String) async throws -> [UsageRow] {
        let (status, body) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/usage?by=\(by)", token: server.token)
        guard status == 200 else { return [] }
        return try JSONDecoder().decode(UsageReport.self, from: Data(body)).rows
    }

    static func amount(_ rows: [UsageRow], _ usage: String, group: String) -> Double {
        rows.first { $0.usage == usage && $0.group == group }?.amount ?? 0
    }

    @Test("samples, requests, log bytes and notifications by protocol are counted as sent and as received, and costed")
    func storeUsage() async throws {
        let root = TemporaryDirectory("plumb-usage")
        defer { root.remove() }
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        defer { smtp.stop() }
        let hookLog = root.path + "/hook.jsonl"
        let receiver = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { receiver.stop() }
        try AlarmNotificationTests.write(
            """
            topics:
              - name: mail
                subscriptions: [{protocol: email, endpoint: ops@example.com}]
              - name: hooks
                subscriptions: [{protocol: webhook, endpoint: "http://127.0.0.1:\(receiver.port)/hook"}]
            """, to: root.path + "/alerts/topics.yaml")
        try AlarmNotificationTests.write(
            """
            alerts: \(root.path)/alerts
            usage: {interval_seconds: 1}
            smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: plumb@example.com}
            """, to: root.path + "/plumb.yaml")
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let token = server.token

        // What the test sends, counted here.
        let metricRequests = 7
        let samplesPerRequest = 3
        for request in 0..<metricRequests {
            let data = (0..<samplesPerRequest).map { ["name": "m\($0)", "value": Double(request)] as [String: Any] }
            let body = try JSONSerialization.data(withJSONObject: ["namespace": "Test/Usage", "data": data])
            let (status, answer) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/metrics", body: Array(body), token: token)
            #expect(status == 204, "\(String(decoding: answer, as: UTF8.self))")
        }
        let messages = (0..<40).map { "event \($0) é " + String(repeating: "x", count: $0) }
        let logBytes = messages.reduce(0) { $0 + $1.utf8.count + 26 }
        for batch in stride(from: 0, to: messages.count, by: 10) {
            let events = messages[batch..<batch + 10].map { ["message": $0] }
            let body = try JSONSerialization.data(withJSONObject: ["events": events])
            let (status, _) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/logs/test-usage/s1", body: Array(body), token: token)
            #expect(status == 200 || status == 204)
        }
        // An IAM user's calls: their ingest and invocations are recorded for them (`User`), the admin token's for
        // `admin-token`.
        let base = server.baseURL + "/api/v1"
        var (status, answer) = try await HTTP.request(
            "POST", base + "/iam/users", body: Array(#"{"name": "alice"}"#.utf8), token: token)
        #expect(status == 201, "\(String(decoding: answer, as: UTF8.self))")
        for group in ["monitoring-writer", "frontend-writer"] {
            (status, _) = try await HTTP.request("PUT", base + "/iam/groups/\(group)/members/alice", token: token)
            #expect(status == 204)
        }
        (status, answer) = try await HTTP.request("POST", base + "/iam/users/alice/tokens", token: token)
        let alice = try #require(
            (try JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any])?["token"] as? String)
        let aliceMetricRequests = 2
        for request in 0..<aliceMetricRequests {
            let data = (0..<samplesPerRequest).map { ["name": "a\($0)", "value": Double(request)] as [String: Any] }
            let body = try JSONSerialization.data(withJSONObject: ["namespace": "Test/Usage", "data": data])
            (status, answer) = try await HTTP.request("POST", base + "/metrics", body: Array(body), token: alice)
            #expect(status == 204, "\(String(decoding: answer, as: UTF8.self))")
        }
        let aliceInvocations = 3
        for _ in 0..<aliceInvocations {
            (status, answer) = try await HTTP.request(
                "POST", base + "/functions/sentiment.classify/invoke", body: Array(#"{"text": "a fine day"}"#.utf8),
                token: alice)
            #expect(status == 200, "\(String(decoding: answer, as: UTF8.self))")
        }
        let mails = 4
        let hooks = 5
        for (topic, count) in [("mail", mails), ("hooks", hooks)] {
            for i in 0..<count {
                let body = try JSONSerialization.data(withJSONObject: ["subject": "s\(i)", "message": "m\(i)"])
                let (status, _) = try await HTTP.request(
                    "POST", server.baseURL + "/api/v1/topics/\(topic)/publish", body: Array(body), token: token)
                #expect(status == 200)
            }
        }
        // Received, counted by the peers.
        try await waitUntil("the mails and webhooks to arrive", timeout: .seconds(60), every: .milliseconds(200)) {
            let received = (try? FileManager.default.contentsOfDirectory(atPath: root.path + "/mail")) ?? []
            return received.filter { $0.hasSuffix(".json") }.count == mails
                && PeerRecords.jsonLines(hookLog).filter { $0["status"] as? Int == 200 }.count == hooks
        }
        // Counted by the server.
        try await waitUntil("the usage to show every sample, byte and delivery", timeout: .seconds(30)) {
            let byUsage = try await Self.usage(server, by: "usage")
            let byTopic = try await Self.usage(server, by: "topic")
            let byGroup = try await Self.usage(server, by: "log_group")
            return Self.amount(byUsage, "MetricSamples", group: "MetricSamples")
                == Double((metricRequests + aliceMetricRequests) * samplesPerRequest)
                && Self.amount(byUsage, "MetricRequests", group: "MetricRequests")
                    == Double(metricRequests + aliceMetricRequests)
                && Self.amount(byGroup, "LogBytesIngested", group: "test-usage") == Double(logBytes)
                && Self.amount(byGroup, "LogEventsIngested", group: "test-usage") == Double(messages.count)
                && Self.amount(byTopic, "EmailNotifications", group: "mail") == Double(mails)
                && Self.amount(byTopic, "HTTPNotifications", group: "hooks") == Double(hooks)
        }
        // Nothing more arrives later: the counts stay what was sent.
        try await Task.sleep(for: .seconds(3))
        let byTopic = try await Self.usage(server, by: "topic")
        #expect(Self.amount(byTopic, "EmailNotifications", group: "mail") == Double(mails))
        #expect(Self.amount(byTopic, "HTTPNotifications", group: "hooks") == Double(hooks))
        let byUsage = try await Self.usage(server, by: "usage")
        #expect(Self.amount(byUsage, "APIRequests", group: "APIRequests") >= Double(metricRequests + 4 + mails + hooks))

        // Stored: a sample is acknowledged only once stored, so the ingested count is what the store holds, read
        // back from it.
        var held = 0.0
        let now = Int64(Date().timeIntervalSince1970)
        for name in (0..<samplesPerRequest).flatMap({ ["m\($0)", "a\($0)"] }) {
            let query =
                "/metrics/statistics?namespace=Test/Usage&name=\(name)&statistics=SampleCount&period=3600&start=\(now - 7_200)&end=\(now + 60)"
            let (_, body) = try await HTTP.request("GET", base + query, token: token)
            let points =
                (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["datapoints"]
                as? [[String: Any]] ?? []
            held += points.reduce(0.0) { $0 + ($1["SampleCount"] as? Double ?? 0) }
        }
        #expect(held == Self.amount(byUsage, "MetricSamples", group: "MetricSamples"))

        // By user: each caller's own ingest and invocations.
        let byUser = try await Self.usage(server, by: "user")
        #expect(Self.amount(byUser, "MetricRequests", group: "alice") == Double(aliceMetricRequests))
        #expect(Self.amount(byUser, "MetricSamples", group: "alice") == Double(aliceMetricRequests * samplesPerRequest))
        #expect(Self.amount(byUser, "Requests", group: "alice") == Double(aliceInvocations))
        #expect(Self.amount(byUser, "MetricRequests", group: "admin-token") == Double(metricRequests))
        #expect(Self.amount(byUser, "LogBytesIngested", group: "admin-token") == Double(logBytes))
        #expect(Self.amount(byUser, "APIRequests", group: "alice") == Double(aliceMetricRequests + aliceInvocations))
        let aliceGBSeconds = Self.amount(byUser, "GBSeconds", group: "alice")
        // Each call billed at least 1 ms of 128 MB or more.
        #expect(aliceGBSeconds >= Double(aliceInvocations) * 0.001 * 0.125)

        // Costed at the table's prices, as the CLI prints it.
        let expectedMail = Double(mails) * 2.00 / 100_000
        let expectedHooks = Double(hooks) * 0.60 / 1_000_000
        let expectedPuts = Double(metricRequests + aliceMetricRequests) * 0.01 / 1_000
        let expectedAlice =
            Double(aliceMetricRequests) * 0.01 / 1_000 + Double(aliceInvocations) * 0.20 / 1_000_000
            + aliceGBSeconds * 0.0000166667
        try await waitUntil("the cost by user to show alice's calls", timeout: .seconds(30)) {
            let run = try await CLI.run([
                "cost", "--by", "user", "--output", "json", "--server", server.baseURL, "--token", token,
            ])
            guard run.status == 0, let report = try? JSONDecoder().decode(CostReport.self, from: Data(run.output.utf8))
            else { return false }
            let row = report.rows.first { $0.group == "alice" }
            return abs((row?.aws ?? 0) - expectedAlice) < 1e-12
        }
        try await waitUntil("the cost to cover the notifications", timeout: .seconds(30)) {
            let run = try await CLI.run([
                "cost", "--by", "usage", "--output", "json", "--server", server.baseURL, "--token", token,
            ])
            guard run.status == 0, let report = try? JSONDecoder().decode(CostReport.self, from: Data(run.output.utf8))
            else { return false }
            func aws(_ usage: String) -> Double { report.rows.first { $0.group == usage }?.aws ?? 0 }
            return abs(aws("EmailNotifications") - expectedMail) < 1e-12
                && abs(aws("HTTPNotifications") - expectedHooks) < 1e-12
                && abs(aws("MetricRequests") - expectedPuts) < 1e-12
        }
        let text = try await CLI.run([
            "usage", "--by", "topic", "--server", server.baseURL, "--token", token,
        ])
        #expect(text.status == 0)
        #expect(text.output.contains("EmailNotifications"), "\(text.output)")
        print("usage end to end: \(text.output)")
    }

    /// A monthly budget on one function, thresholds on the forecast and on the actual cost, driven by invocations:
    /// the forecast crosses first (it is the actual cost continued over the month), then the actual; each alarm
    /// notifies once through a real webhook receiver, with the figures.
    @Test(
        "a budget crosses its forecast threshold, then its actual one, under load; each notifies once with the figures")
    func budgetUnderLoad() async throws {
        let root = TemporaryDirectory("plumb-budget")
        defer { root.remove() }
        let hookLog = root.path + "/hook.jsonl"
        let receiver = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { receiver.stop() }
        // About 40 invocations' worth: each is billed a request ($0.0000002) and a few 128 MB milliseconds.
        let amount = 0.000008
        try AlarmNotificationTests.write(
            """
            topics:
              - name: budget-alerts
                subscriptions: [{protocol: webhook, endpoint: "http://127.0.0.1:\(receiver.port)/hook"}]
            budgets:
              - name: load
                amount: \(amount)
                period: monthly
                filter: {function: sentiment.classify}
                evaluation_period: 10
                forecast_after: 0
                thresholds:
                  - {kind: forecast, percent: 100, actions: [budget-alerts]}
                  - {kind: actual, percent: 100, actions: [budget-alerts]}
            """, to: root.path + "/alerts/budget.yaml")
        try AlarmNotificationTests.write(
            "alerts: \(root.path)/alerts\nusage: {interval_seconds: 1}\n", to: root.path + "/plumb.yaml")
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let token = server.token

        func figures() async throws -> BudgetStatus? {
            let (status, body) = try await HTTP.request("GET", server.baseURL + "/api/v1/budgets", token: token)
            guard status == 200 else { return nil }
            return try JSONDecoder().decode(BudgetList.self, from: Data(body)).budgets.first
        }
        func notifications() -> [(alarm: String, message: [String: Any])] {
            PeerRecords.jsonLines(hookLog).compactMap { record in
                guard record["status"] as? Int == 200, let body = record["body"] as? [String: Any],
                    let text = body["message"] as? String,
                    let message = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                    let alarm = message["alarmName"] as? String
                else { return nil }
                return (alarm, message)
            }
        }
        var invocations = 0
        func invoke() async throws {
            let (status, _) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/functions/sentiment.classify/invoke",
                body: Array(#"{"text": "a good day"}"#.utf8), token: token)
            #expect(status == 200)
            invocations += 1
        }

        // Phase 1: load until the forecast passes the amount (the figure the server computes), then stop.
        try await waitUntil("the forecast to pass the budget", timeout: .seconds(120), every: .milliseconds(300)) {
            try await invoke()
            return (try await figures()?.forecast ?? 0) > amount
        }
        let atForecast = try #require(try await figures())
        try await waitUntil("the forecast alarm's notification", timeout: .seconds(60), every: .milliseconds(300)) {
            notifications().contains { $0.alarm == "load forecast 100%" }
        }
        if atForecast.actual < amount {
            #expect(!notifications().contains { $0.alarm == "load actual 100%" }, "the actual is still under")
        }
        // Phase 2: load until the actual cost passes it.
        try await waitUntil("the actual cost to pass the budget", timeout: .seconds(120), every: .milliseconds(100)) {
            try await invoke()
            return (try await figures()?.actual ?? 0) > amount
        }
        try await waitUntil("the actual alarm's notification", timeout: .seconds(60), every: .milliseconds(300)) {
            notifications().contains { $0.alarm == "load actual 100%" }
        }
        // Two more evaluations: neither alarm notifies again while it stays over.
        try await Task.sleep(for: .seconds(25))
        let sent = notifications()
        #expect(sent.filter { $0.alarm == "load forecast 100%" }.count == 1, "\(sent.map(\.alarm))")
        #expect(sent.filter { $0.alarm == "load actual 100%" }.count == 1, "\(sent.map(\.alarm))")
        for (alarm, message) in sent {
            let description = message["alarmDescription"] as? String ?? ""
            let reason = message["reason"] as? String ?? message["newStateReason"] as? String ?? ""
            #expect(description.contains("Budget 'load'") && description.contains("$0.000008"), "\(alarm): \(message)")
            #expect(reason.contains("Threshold Crossed"), "\(alarm): \(message)")
            #expect(message["newState"] as? String == "ALARM")
        }
        let final = try #require(try await figures())
        #expect(final.thresholds.allSatisfy { $0.state == "ALARM" })
        print(
            "budget under load: forecast crossed after \(atForecast.actual) actual (forecast \(atForecast.forecast)), \(invocations) invocations in all, actual \(final.actual) of \(amount)"
        )
    }
}
