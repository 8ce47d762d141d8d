import Foundation
import PlumbTesting
import Testing

/// Every shipped dashboard passes `plumb check` and renders a frame with data against a server that ran the four
/// load scenarios.
@Suite("ShippedDashboards", .serialized)
struct ShippedDashboardTests {
    static let names = [
        "overview", "functions", "chat", "sentiment", "classification", "sensors", "loadtest", "cost",
    ]

    @Test("plumb check passes; each dashboard's --once frame shows its title and data after the four scenarios ran")
    func renderAfterLoad() async throws {
        let check = try await CLI.run([
            "check", "--alerts", Checkout.root + "/alerts", "--dashboards", Checkout.root + "/dashboards",
        ])
        #expect(
            check.status == 0 && check.output.contains("dashboards: \(Self.names.count) valid file(s)"),
            "\(check.output)")

        let root = TemporaryDirectory("plumb-dash-shipped")
        defer { root.remove() }
        // support.ask's async events are not retried, so a failing one is an error at once (for "Newest errors").
        // Usage is costed every second, so the cost dashboard has its figures by the time it is drawn.
        try "functions:\n  support.ask:\n    maximum_retry_attempts: 0\nusage: {interval_seconds: 1}\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        for scenario in ["sentiment", "classification", "chat", "sensors"] {
            let run = try await CLI.run(
                [
                    "load", scenario, "--target", server.baseURL, "--duration", "3s", "--warmup", "1s", "--quiet",
                    "--token", server.token,
                ]
                    + (scenario == "chat"
                        ? ["--clients", "20"] : scenario == "sensors" ? ["--detectors", "20"] : ["--rate", "50"]),
                timeout: .seconds(60))
            // 99: the run completed and only the scenario's own latency thresholds failed (on a busy CI machine);
            // what matters here is the data it left for the dashboards.
            #expect(run.status == 0 || run.status == 99, "\(scenario): \(run.output)")
        }
        // One real failure besides the scenarios' traffic: an async event its function refuses, with no retries and no
        // on_failure topic, which the server logs as an ERROR — what "Newest errors" must show, and nothing at INFO.
        let (queued, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/functions/support.ask/invoke?type=Event", body: Array("not json".utf8),
            token: server.token, timeout: 30)
        #expect(queued == 202)
        // The server's own metrics are reported every second; usage is costed 3 s after each one-second window.
        try await Task.sleep(for: .seconds(5))
        // The frames' symbols follow the locale (ASCII when it cannot show UTF-8), so the test names its locale
        // rather than inheriting the caller's (CI runs with no LANG at all).
        let utf8: [String: String] = ["LANG": "C.UTF-8", "LC_ALL": "", "LC_CTYPE": "", "TERM": "xterm"]
        for name in Self.names {
            let frame = try await CLI.run(
                [
                    "dash", name, "--dashboards", Checkout.root + "/dashboards", "--once", "--width", "140", "--height",
                    "45",
                    "--server", server.baseURL, "--token", server.token,
                ], environment: utf8)
            #expect(frame.status == 0, "\(name): \(frame.output)")
            let lines = frame.output.split(separator: "\n")
            #expect(lines.count == 45, "\(name): a 45-row frame, got \(lines.count)")
            #expect(!frame.output.contains("⚠"), "\(name): no fetch problem: \(frame.output)")
            // At least one widget shows a number or a graph, i.e. not every widget says "no data".
            let boxes = frame.output.components(separatedBy: "no data").count - 1
            let widgets =
                frame.output.components(separatedBy: "┌─").count - 1 + frame.output.components(separatedBy: "┏━").count
                - 1
            #expect(boxes < widgets, "\(name): \(boxes) of \(widgets) widgets without data\n\(frame.output)")
            if name == "overview" { print(frame.output) }
        }
        // Widget by widget, every page: each shows data after the scenarios (the overview's "Cold starts" read a series
        // nobody wrote, and "Newest errors" matched INFO lines that merely said "error").
        var empty: [String] = []
        for name in Self.names {
            let probe = try await CLI.run([
                "dash", name, "--dashboards", Checkout.root + "/dashboards", "--probe", "--server", server.baseURL,
                "--token", server.token,
            ])
            empty += probe.output.split(separator: "\n").filter { $0.hasSuffix(": no data") || $0.contains("⚠") }.map {
                "\(name) \($0)"
            }
            #expect(probe.output.contains("values"), "\(name): \(probe.output)")
        }
        #expect(empty.isEmpty, "widgets without data after the four scenarios:\n\(empty.joined(separator: "\n"))")
        // "Newest errors" holds errors only: its filter, as shipped, finds the failure above and no INFO line (the old
        // "?error ?Error ?ERROR" matched any line that mentioned errors, "errors=0" included).
        let overview = try String(contentsOfFile: Checkout.root + "/dashboards/overview.yaml", encoding: .utf8)
        let filter = try #require(
            overview.split(separator: "\n").first { $0.contains("filter:") && $0.contains("level") }.map {
                String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(
                    in: CharacterSet(charactersIn: " '"))
            })
        let encoded = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter
        let (_, found) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/logs/%2Fplumb%2Fserver?start=-1h&filter=" + encoded, token: server.token)
        let events =
            ((try? JSONSerialization.jsonObject(with: Data(found))) as? [String: Any])?["events"] as? [[String: Any]]
            ?? []
        let levels = events.compactMap {
            ($0["message"] as? String).flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }?["level"] as? String
        }
        #expect(!levels.isEmpty && levels.allSatisfy { $0 == "ERROR" || $0 == "CRITICAL" }, "\(levels)")
        // In a locale without UTF-8 the same frame falls back to ASCII by itself, and still shows data.
        let plain = try await CLI.run(
            [
                "dash", "overview", "--dashboards", Checkout.root + "/dashboards", "--once", "--width", "140",
                "--height", "45",
                "--server", server.baseURL, "--token", server.token,
            ], environment: ["LANG": "C", "LC_ALL": "", "LC_CTYPE": "", "TERM": "xterm"])
        let nonASCII = plain.output.unicodeScalars.filter { !$0.isASCII }.count
        #expect(
            plain.status == 0 && nonASCII == 0, "overview in LANG=C: \(nonASCII) non-ASCII characters\n\(plain.output)")
        let noData = plain.output.components(separatedBy: "no data").count - 1
        #expect(noData < 12, "overview in LANG=C: \(noData) widgets without data\n\(plain.output)")
    }
}
