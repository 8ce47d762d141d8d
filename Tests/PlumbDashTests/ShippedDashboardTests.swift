import Foundation
import PlumbTesting
import Testing

/// Every shipped dashboard passes `plumb check` and renders a frame with data against a server that ran the four
/// load scenarios.
@Suite("ShippedDashboards", .serialized)
struct ShippedDashboardTests {
    static let names = ["overview", "functions", "chat", "sentiment", "classification", "sensors", "loadtest"]

    @Test("plumb check passes; each dashboard's --once frame shows its title and data after the four scenarios ran")
    func renderAfterLoad() async throws {
        let check = try await CLI.run(["check", "--alerts", Checkout.root + "/alerts", "--dashboards", Checkout.root + "/dashboards"])
        #expect(check.status == 0 && check.output.contains("dashboards: \(Self.names.count) valid file(s)"), "\(check.output)")

        let root = TemporaryDirectory("plumb-dash-shipped")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        for scenario in ["sentiment", "classification", "chat", "sensors"] {
            let run = try await CLI.run(
                ["load", scenario, "--target", server.baseURL, "--duration", "3s", "--warmup", "1s", "--quiet", "--token", server.token]
                    + (scenario == "chat" ? ["--clients", "20"] : scenario == "sensors" ? ["--detectors", "20"] : ["--rate", "50"]), timeout: .seconds(60))
            // 99: the run completed and only the scenario's own latency thresholds failed (on a busy CI machine);
            // what matters here is the data it left for the dashboards.
            #expect(run.status == 0 || run.status == 99, "\(scenario): \(run.output)")
        }
        try await Task.sleep(for: .seconds(2))  // the server's own metrics are reported every second
        // The frames' symbols follow the locale (ASCII when it cannot show UTF-8), so the test names its locale
        // rather than inheriting the caller's (CI runs with no LANG at all).
        let utf8: [String: String] = ["LANG": "C.UTF-8", "LC_ALL": "", "LC_CTYPE": "", "TERM": "xterm"]
        for name in Self.names {
            let frame = try await CLI.run([
                "dash", name, "--dashboards", Checkout.root + "/dashboards", "--once", "--width", "140", "--height", "45",
                "--server", server.baseURL, "--token", server.token,
            ], environment: utf8)
            #expect(frame.status == 0, "\(name): \(frame.output)")
            let lines = frame.output.split(separator: "\n")
            #expect(lines.count == 45, "\(name): a 45-row frame, got \(lines.count)")
            #expect(!frame.output.contains("⚠"), "\(name): no fetch problem: \(frame.output)")
            // At least one widget shows a number or a graph, i.e. not every widget says "no data".
            let boxes = frame.output.components(separatedBy: "no data").count - 1
            let widgets = frame.output.components(separatedBy: "┌─").count - 1 + frame.output.components(separatedBy: "┏━").count - 1
            #expect(boxes < widgets, "\(name): \(boxes) of \(widgets) widgets without data\n\(frame.output)")
            if name == "overview" { print(frame.output) }
        }
        // In a locale without UTF-8 the same frame falls back to ASCII by itself, and still shows data.
        let plain = try await CLI.run([
            "dash", "overview", "--dashboards", Checkout.root + "/dashboards", "--once", "--width", "140", "--height", "45",
            "--server", server.baseURL, "--token", server.token,
        ], environment: ["LANG": "C", "LC_ALL": "", "LC_CTYPE": "", "TERM": "xterm"])
        let nonASCII = plain.output.unicodeScalars.filter { !$0.isASCII }.count
        #expect(plain.status == 0 && nonASCII == 0, "overview in LANG=C: \(nonASCII) non-ASCII characters\n\(plain.output)")
        let noData = plain.output.components(separatedBy: "no data").count - 1
        #expect(noData < 12, "overview in LANG=C: \(noData) widgets without data\n\(plain.output)")
    }
}
