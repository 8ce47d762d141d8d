import Foundation
import PlumbTesting
import Testing

/// Silences end to end through the real `plumb` binary: `plumb silence` and `plumb alarms` against a real
/// `plumb serve`, whose notifications go to a real webhook receiver (Tests/peers/webhook_receiver.py).
@Suite("Silences end to end", .serialized)
struct SilenceEndToEndTests {
    /// The alarm names in the notifications the receiver got, with their new state (`quiet-one ALARM`).
    static func received(_ log: String) -> [String] {
        PeerRecords.jsonLines(log).compactMap { record in
            guard let body = record["body"] as? [String: Any], body["type"] as? String == "Notification",
                let text = body["message"] as? String,
                let message = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { return nil }
            return "\(message["alarmName"] as? String ?? "?") \(message["newState"] as? String ?? "?")"
        }
    }

    @Test(
        "a silenced alarm's transition reaches no receiver while an unsilenced one does; expiring the silence lets the next through"
    )
    func silencedThenExpired() async throws {
        let root = TemporaryDirectory("plumb-silence")
        defer { root.remove() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { hook.stop() }
        // treat_missing_data: ignore and no data: an evaluation keeps the state set by hand.
        let alarm =
            "namespace: Test/Silence, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, treat_missing_data: ignore, alarm_actions: [hooks], ok_actions: [hooks]"
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        try """
        topics:
          - name: hooks
            subscriptions:
              - {protocol: webhook, endpoint: "http://127.0.0.1:\(hook.port)/hook"}
        alarms:
          - {name: quiet-one, \(alarm)}
          - {name: loud-one, \(alarm)}
        """.write(toFile: root.path + "/alerts/s.yaml", atomically: true, encoding: .utf8)
        let server = try await ServerProcess.start(config: "alerts: \(root.path)/alerts\n", in: root)
        defer { if server.process.isRunning { server.kill(signal: SIGKILL) } }
        let client = ["--server", server.baseURL, "--token", server.token]
        func plumb(_ arguments: [String]) async throws -> String {
            let (status, output) = try await CLI.run(arguments + client)
            #expect(status == 0, "plumb \(arguments.joined(separator: " ")): \(output)")
            return output
        }

        // Refused before anything is sent: both matchers, or no comment.
        let both = try await CLI.run(
            ["silence", "add", "--alarm", "quiet-one", "--match", "quiet-*", "--for", "2h", "--comment", "x"] + client)
        #expect(both.status != 0 && both.output.contains("exactly one of --alarm and --match"), "\(both.output)")
        let badDuration = try await CLI.run(
            ["silence", "add", "--alarm", "quiet-one", "--for", "soon", "--comment", "x"] + client)
        #expect(badDuration.status != 0 && badDuration.output.contains("duration"), "\(badDuration.output)")

        let added = try await plumb(["silence", "add", "--match", "quiet-*", "--for", "2h", "--comment", "rack move"])
        let id = try #require(added.firstMatch(of: /silence ([0-9a-f-]{36}):/).map { String($0.1) }, "\(added)")
        #expect(added.contains("alarms matching quiet-* silenced until"), "\(added)")

        _ = try await plumb(["alarms", "set-state", "quiet-one", "ALARM", "--reason", "pager test"])
        _ = try await plumb(["alarms", "set-state", "loud-one", "ALARM", "--reason", "pager test"])
        try await waitUntil("loud-one's notification", timeout: .seconds(10), every: .milliseconds(200)) {
            Self.received(hookLog).contains("loud-one ALARM")
        }
        // The silenced alarm changed state at the same moment; give its (held) notification time it would have had.
        try await Task.sleep(for: .seconds(3))
        #expect(
            Self.received(hookLog) == ["loud-one ALARM"],
            "only the unsilenced alarm notified: \(Self.received(hookLog))")

        // Shown by `plumb alarms` (list and describe) and recorded in the history.
        let list = try await plumb(["alarms", "list"])
        let quietLine = try #require(list.split(separator: "\n").first { $0.hasPrefix("quiet-one") }, "\(list)")
        #expect(
            quietLine.contains("ALARM") && quietLine.contains("silenced until ")
                && quietLine.contains(" by admin (rack move)"), "\(quietLine)")
        #expect(
            list.split(separator: "\n").first { $0.hasPrefix("loud-one") }?.contains("silenced") == false, "\(list)")
        let described = try await plumb(["alarms", "describe", "quiet-one"])
        #expect(
            described.contains("silenced until ") && described.contains("by admin (rack move), silence \(id)"),
            "\(described)")
        let history = try await plumb(["alarms", "history", "quiet-one"])
        #expect(history.contains("Notification held by silence \(id)"), "\(history)")
        let silences = try await plumb(["silence", "list"])
        let row = try #require(silences.split(separator: "\n").first { $0.hasPrefix(id) }, "\(silences)")
        #expect(
            row.contains("active") && row.contains("quiet-* (glob)") && row.contains("admin")
                && row.contains("rack move"), "\(row)")

        // Expired (by a prefix of its id): the next transition goes through.
        let expired = try await plumb(["silence", "expire", String(id.prefix(8))])
        #expect(expired.contains("silence \(id) expired"), "\(expired)")
        #expect(try await plumb(["silence", "list", "--state", "expired"]).contains(id))
        #expect(try await plumb(["alarms", "describe", "quiet-one"]).contains("silenced") == false)
        _ = try await plumb(["alarms", "set-state", "quiet-one", "OK", "--reason", "after the rack move"])
        try await waitUntil("quiet-one's OK", timeout: .seconds(10), every: .milliseconds(200)) {
            Self.received(hookLog).contains("quiet-one OK")
        }
        #expect(Self.received(hookLog) == ["loud-one ALARM", "quiet-one OK"])
    }
}
