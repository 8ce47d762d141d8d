import Foundation
import PlumbTesting
import Testing

/// End to end with real peers: a real `plumb serve`, a real SMTP server (aiosmtpd) and a real HTTP webhook
/// receiver that verifies the HMAC signature (Tests/peers/).
@Suite("Alarm notifications end to end", .serialized)
struct AlarmNotificationTests {
    static let secret = "e2e-webhook-secret-0123456789"

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test(
        "a receiver down for 60 s, then 500s, and a SIGKILL of the server: every notification arrives, each under one id"
    )
    func outageAndCrash() async throws {
        let root = TemporaryDirectory("plumb-outage")
        defer { root.remove() }
        let port = ServerProcess.freePort()
        let hookLog = root.path + "/hook.jsonl"
        try Self.write(
            """
            topics:
              - name: hooks
                delivery_policy: {num_retries: 40, min_delay: 1, max_delay: 5, backoff: exponential}
                subscriptions:
                  - {protocol: webhook, endpoint: "http://127.0.0.1:\(port)/hook", secret_env: E2E_HOOK_SECRET}
            """, to: root.path + "/alerts/hooks.yaml")
        try Self.write("alerts: \(root.path)/alerts\n", to: root.path + "/plumb.yaml")
        let arguments = ["--config", root.path + "/plumb.yaml"]
        let environment = ["E2E_HOOK_SECRET": Self.secret]
        var server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: arguments, environment: environment)
        try await server.waitReady()
        let token = server.token
        let outageStart = ContinuousClock.now

        var published: [String: String] = [:]  // message text → messageId
        func publish(_ range: Range<Int>, via server: ServerProcess) async throws {
            for i in range {
                let text = "notification \(i)"
                let body = try JSONSerialization.data(withJSONObject: ["subject": "n\(i)", "message": text])
                let (status, response) = try await HTTP.request(
                    "POST", server.baseURL + "/api/v1/topics/hooks/publish", body: Array(body), token: token)
                #expect(status == 200)
                published[text] = try #require(json(response)["messageId"] as? String)
            }
        }

        // Phase 1: nothing listens (connection refused).
        try await publish(0..<10, via: server)
        try await Task.sleep(for: .seconds(20))
        // Phase 2: the receiver answers 500.
        var receiver = try await PeerProcess(
            script: "webhook_receiver.py", port: port,
            arguments: ["--log", hookLog, "--secret", Self.secret, "--status", "500"],
            logDirectory: root.path)
        try await publish(10..<20, via: server)
        // Until the 500s have been met (retries of the first phase's messages or the new ones).
        try await waitUntil("a delivery answered 500", timeout: .seconds(30), every: .milliseconds(200)) {
            PeerRecords.jsonLines(hookLog).contains { $0["status"] as? Int == 500 }
        }
        // The server dies with deliveries pending and comes back.
        server.kill(signal: SIGKILL)
        server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: arguments, environment: environment)
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        try await server.waitReady()
        try await publish(20..<25, via: server)
        try await Task.sleep(until: outageStart + .seconds(60))
        // Phase 3: the receiver is back.
        receiver.stop()
        receiver = try await PeerProcess(
            script: "webhook_receiver.py", port: port, arguments: ["--log", hookLog, "--secret", Self.secret],
            logDirectory: root.path)
        defer { receiver.stop() }

        let expected = Set(published.values)
        try await waitUntil("every notification to be delivered", timeout: .seconds(60), every: .milliseconds(200)) {
            let delivered = PeerRecords.jsonLines(hookLog).filter { $0["status"] as? Int == 200 }
            return Set(delivered.compactMap { $0["header_message_id"] as? String }).isSuperset(of: expected)
        }
        let records = PeerRecords.jsonLines(hookLog)
        let failedAttempts = records.filter { $0["status"] as? Int == 500 }.count
        #expect(failedAttempts > 0, "the 500 phase was exercised")
        var idsByText: [String: Set<String>] = [:]
        for record in records {
            let body = try #require(record["body"] as? [String: Any])
            let id = try #require(body["messageId"] as? String)
            #expect(record["header_message_id"] as? String == id)
            #expect(record["signature_valid"] as? Bool == true)
            idsByText[body["message"] as? String ?? "", default: []].insert(id)
        }
        for (text, id) in published {
            #expect(idsByText[text] == [id], "\(text) arrived under \(idsByText[text] ?? []) instead of only \(id)")
        }
        #expect(idsByText.count == published.count)
        let duplicates = records.filter { $0["status"] as? Int == 200 }.count - expected.count
        print(
            "outage: \(published.count) published, \(failedAttempts) attempts answered 500, \(duplicates) duplicate 200 deliveries (same id)"
        )

        try await waitUntil("the outbox to drain", timeout: .seconds(10), every: .milliseconds(200)) {
            let counts =
                json(try await HTTP.request("GET", server.baseURL + "/api/v1/deliveries?topic=hooks", token: token).1)[
                    "counts"] as? [String: Any]
            return counts?["pending"] == nil && counts?["failed"] == nil
                && (counts?["delivered"] as? Int) == published.count
        }
    }
}
