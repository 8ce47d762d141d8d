import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// Plumb scrapes real prometheus-node-exporters (Debian) with a `scrape_configs` section pasted as Prometheus takes
/// it, beside a target that serves garbage and one where nothing listens: the exporters' series are queryable with
/// their labels, the bad targets show `up = 0` with the reason, and an exporter that goes away mid-run turns to
/// `up = 0` while the other keeps being scraped. In the serial pass (its name ends in TimingTests): scrapes every
/// second, on the wall clock, with five processes of its own.
@Suite("Prometheus scraping")
struct PrometheusScrapeTimingTests {
    @Test("node exporters scraped with labels and relabelling; down and garbage targets are up = 0, the rest go on")
    func scrapes() async throws {
        let root = TemporaryDirectory("plumb-scrape")
        defer { root.remove() }
        func exporter() async throws -> BinaryPeer {
            try await BinaryPeer(
                "/usr/bin/prometheus-node-exporter", directory: root.path, readyPath: "/metrics"
            ) { port in
                [
                    "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.cpu",
                    "--collector.meminfo", "--collector.loadavg",
                ]
            }
        }
        let steady = try await exporter()
        defer { steady.stop() }
        let leaving = try await exporter()
        defer { leaving.stop() }
        // A page that is not exposition text, served by Python's file server.
        try FileManager.default.createDirectory(atPath: root.path + "/garbage", withIntermediateDirectories: true)
        try "node_load1 0.5\nthis is { not a sample\n".write(
            toFile: root.path + "/garbage/metrics", atomically: true, encoding: .utf8)
        let garbagePort = ServerProcess.freePort()
        let garbage = try ChildProcess(
            "/usr/bin/env", ["python3", "-m", "http.server", String(garbagePort), "--bind", "127.0.0.1"],
            directory: root.path + "/garbage")
        defer {
            garbage.signal(SIGKILL)
            garbage.waitExited()
        }
        let nobody = ServerProcess.freePort()
        let config = """
            alerts: ./no-alerts
            metrics:
              line_protocol_resolution: 1
            scrape_configs:
              - job_name: node
                scrape_interval: 1s
                scrape_timeout: 1s
                static_configs:
                  - targets: ['127.0.0.1:\(steady.port)', '127.0.0.1:\(leaving.port)']
                    labels:
                      env: test
                metric_relabel_configs:
                  - source_labels: [__name__]
                    regex: 'go_.*|promhttp_.*'
                    action: drop
              - job_name: broken
                scrape_interval: 1s
                scrape_timeout: 1s
                static_configs:
                  - targets: ['127.0.0.1:\(garbagePort)', '127.0.0.1:\(nobody)']
                relabel_configs:
                  - source_labels: [__address__]
                    regex: '127\\.0\\.0\\.1:(\\d+)'
                    target_label: port
                    replacement: 'p$1'
            """
        let plumb = try await ServerProcess.start(config: config, in: .scratch("plumb-scrape"))
        defer { plumb.kill(signal: SIGKILL) }

        func statistics(
            _ namespace: String, _ name: String, _ dimensions: [String: String], _ stat: String, period: Int = 1
        )
            async throws -> [[String: Double]]
        {
            let query = [
                "namespace": namespace, "name": name, "statistics": stat, "period": String(period), "start": "-5m",
                "dimensions": dimensions.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            ].map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.value)" }
                .joined(separator: "&")
            let (status, body) = try await HTTP.request(
                "GET", plumb.baseURL + "/api/v1/metrics/statistics?" + query, token: plumb.token)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            return try JSONDecoder().decode(StatisticsResponse.self, from: Data(body)).datapoints.map(\.values)
        }
        let steadyLabels = ["job": "node", "instance": "127.0.0.1:\(steady.port)", "env": "test"]
        // node_cpu_seconds_total{cpu="0",mode="idle"}: namespace node, metric cpu_seconds_total, labels as dimensions.
        try await waitUntil("node_cpu_seconds_total scraped", timeout: .seconds(30), every: .milliseconds(500)) {
            try await !statistics(
                "node", "cpu_seconds_total", steadyLabels.merging(["cpu": "0", "mode": "idle"]) { a, _ in a }, "Maximum"
            ).isEmpty
        }
        let memory = try await statistics("node", "memory_MemAvailable_bytes", steadyLabels, "Maximum")
        #expect((memory.last?["Maximum"] ?? 0) > 1_000_000, "\(memory.suffix(2))")
        // The series Plumb holds are the exporter's own, less the dropped go_* ones, with the target's labels.
        let (_, listBody) = try await HTTP.request("GET", plumb.baseURL + "/api/v1/metrics", token: plumb.token)
        let listed = try JSONDecoder().decode(ListMetricsResponse.self, from: Data(listBody)).metrics
        #expect(!listed.contains { $0.namespace == "go" && $0.dimensions["job"] == "node" })
        #expect(listed.contains { $0.namespace == "node" && $0.name == "load1" && $0.dimensions["env"] == "test" })

        // The broken job: both targets up = 0, the reasons in /api/v1/targets; the relabelled label is there.
        for port in [garbagePort, nobody] {
            let labels = ["job": "broken", "instance": "127.0.0.1:\(port)", "port": "p\(port)"]
            try await waitUntil("up = 0 for 127.0.0.1:\(port)", timeout: .seconds(30), every: .milliseconds(500)) {
                try await statistics("Prometheus", "up", labels, "Maximum").last?["Maximum"] == 0
            }
        }
        var active: [[String: Any]] = []
        var byURL: [String: [String: Any]] = [:]
        try await waitUntil("the garbage page's reason", timeout: .seconds(30), every: .milliseconds(500)) {
            let (status, body) = try await HTTP.request("GET", plumb.baseURL + "/api/v1/targets", token: plumb.token)
            #expect(status == 200)
            active = ((json(body)["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
            byURL = Dictionary(active.map { (($0["scrapeUrl"] as? String) ?? "", $0) }) { a, _ in a }
            return (byURL["http://127.0.0.1:\(garbagePort)/metrics"]?["lastError"] as? String ?? "").contains("line 2")
        }
        #expect(active.count == 4)
        #expect(byURL["http://127.0.0.1:\(steady.port)/metrics"]?["health"] as? String == "up")
        // Nothing of the garbage page was stored (a page is taken whole or not at all).
        #expect(!listed.contains { $0.dimensions["job"] == "broken" && $0.name == "load1" })

        // One exporter goes away: its up turns 0, the other one's samples keep coming.
        leaving.stop()
        let leavingLabels = ["job": "node", "instance": "127.0.0.1:\(leaving.port)", "env": "test"]
        try await waitUntil("up = 0 for the stopped exporter", timeout: .seconds(30), every: .milliseconds(500)) {
            try await statistics("Prometheus", "up", leavingLabels, "Maximum").last?["Maximum"] == 0
        }
        let before = try await statistics("Prometheus", "up", steadyLabels, "SampleCount", period: 300)
            .reduce(0) { $0 + ($1["SampleCount"] ?? 0) }
        try await Task.sleep(for: .seconds(3))
        let after = try await statistics("Prometheus", "up", steadyLabels, "SampleCount", period: 300)
            .reduce(0) { $0 + ($1["SampleCount"] ?? 0) }
        #expect(after >= before + 2, "the steady exporter: \(before) scrapes, then \(after)")
        let up = try await statistics("Prometheus", "up", steadyLabels, "Minimum", period: 300)
        #expect(up.allSatisfy { $0["Minimum"] == 1 })
        let duration = try await statistics("scrape", "duration_seconds", steadyLabels, "Maximum", period: 300)
        #expect((duration.last?["Maximum"] ?? 0) > 0)
    }
}
