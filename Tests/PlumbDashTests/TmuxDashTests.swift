import Foundation
import PlumbTesting
import Testing

/// The live TUI driven in tmux (`send-keys`, `capture-pane`) against a real server: start, switch page, focus and
/// zoom a widget, filter the logs, quit.
@Suite("TmuxDash", .serialized)
struct TmuxDashTests {
    static func tmux(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await CLI.runProgram("/usr/bin/env", ["tmux"] + arguments)
    }

    /// Ends the session from a `defer` (synchronous; tmux answers at once).
    static func killSession(_ session: String) {
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        guard
            let p = try? ChildProcess(
                "/usr/bin/env", ["tmux", "kill-session", "-t", session], stdout: null, stderr: null)
        else { return }
        p.waitExited(until: .now + .seconds(10))
    }

    /// The pane's text, once `condition` holds (or the last capture after the timeout).
    static func screen(
        _ session: String, until condition: (String) -> Bool, timeout: Double = 10
    ) async throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        while Date() < deadline {
            text = try await tmux(["capture-pane", "-p", "-t", session]).output
            if condition(text) { return text }
            try await Task.sleep(for: .milliseconds(200))
        }
        return text
    }

    @Test("start, page 2, focus and zoom, filter the logs, quit")
    func drive() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            Issue.record("tmux is not installed (.ci/run installs it)")
            return
        }
        let root = TemporaryDirectory("plumb-tmux")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let file = root.path + "/e2e.yaml"
        try """
        version: 1
        title: E2E board
        range: 1h
        refresh: 1s
        pages:
          - title: First
            rows:
              - widgets:
                  - {type: text, title: Notes, text: "page one notes"}
                  - {type: logs, title: Server log, log_group: /plumb/server}
          - title: Second
            rows:
              - widgets:
                  - {type: alarms, title: All alarms}
                  - {type: table, title: Functions, namespace: Plumb/Functions, dimension: Function, columns: [{metric: Invocations, stat: Sum}]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let session = "plumb-e2e-\(ProcessInfo.processInfo.processIdentifier)"
        let command =
            "env LANG=C.UTF-8 TERM=xterm-256color NO_COLOR=1 PLUMB_TOKEN=\(server.token) \(Checkout.plumbBinary) dash \(file) --server \(server.baseURL)"
        let started = try await Self.tmux(["new-session", "-d", "-s", session, "-x", "120", "-y", "30", command])
        #expect(started.status == 0, "\(started.output)")
        defer { Self.killSession(session) }

        // Each wait is for the whole frame the checks read: a capture can catch a frame half drawn (seen once in the
        // full suite's parallel pass).
        let first = try await Self.screen(session) {
            $0.contains("E2E board") && $0.contains("initialised") && $0.contains("[1/2 First]")
                && $0.contains("page one notes") && $0.contains("Server log")
        }
        #expect(first.contains("[1/2 First]") && first.contains("page one notes"), "\(first)")
        #expect(
            first.contains("Server log") && first.contains("initialised"), "the server's log lines are shown: \(first)")

        _ = try await Self.tmux(["send-keys", "-t", session, "2"])
        let second = try await Self.screen(session) {
            $0.contains("[2/2 Second]") && $0.contains("All alarms") && $0.contains("functions-errors")
        }
        #expect(
            second.contains("All alarms") && second.contains("functions-errors") && !second.contains("page one notes"),
            "\(second)")

        // Back to page 1; Tab moves the focus to the log; Enter zooms it to the whole screen.
        _ = try await Self.tmux(["send-keys", "-t", session, "1"])
        _ = try await Self.screen(session) { $0.contains("page one notes") }
        _ = try await Self.tmux(["send-keys", "-t", session, "Tab"])
        _ = try await Self.tmux(["send-keys", "-t", session, "Enter"])
        let zoomed = try await Self.screen(session) {
            !$0.contains("page one notes") && !$0.contains("Notes") && $0.contains("┏━ Server log")
        }
        #expect(
            !zoomed.contains("Notes") && zoomed.contains("┏━ Server log"), "the focused log fills the screen: \(zoomed)"
        )

        // `/` filters the focused log: only matching lines stay.
        _ = try await Self.tmux(["send-keys", "-t", session, "/"])
        _ = try await Self.tmux(["send-keys", "-t", session, "-l", "sensors"])
        _ = try await Self.tmux(["send-keys", "-t", session, "Enter"])
        func logLines(_ screen: String) -> [Substring] {
            screen.split(separator: "\n").filter {
                $0.contains("┃") && $0.range(of: #"\d\d:\d\d:\d\d "#, options: .regularExpression) != nil
            }
        }
        let filtered = try await Self.screen(session) {
            $0.contains("filter: sensors") && logLines($0).allSatisfy { $0.localizedCaseInsensitiveContains("sensors") }
                && !logLines($0).isEmpty
        }
        let logLines = logLines(filtered)
        #expect(
            !logLines.isEmpty && logLines.allSatisfy { $0.localizedCaseInsensitiveContains("sensors") }, "\(filtered)")

        _ = try await Self.tmux(["send-keys", "-t", session, "q"])
        let deadline = Date().addingTimeInterval(5)
        var alive = true
        while Date() < deadline, alive {
            alive = try await Self.tmux(["has-session", "-t", session]).status == 0
            if alive { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!alive, "q quits (the session ends with the command)")
    }
}
