import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// A real Prometheus (Debian's 2.42) scrapes a real node exporter every second and remote-writes to Plumb: the
/// series and the samples Plumb stored over a window are those Prometheus stored itself. In the serial pass (its name
/// ends in TimingTests): it keeps three processes busy on a wall-clock window.
@Suite("Prometheus remote write", .serialized)
struct PrometheusRemoteWriteTimingTests {
    @Test("what Prometheus scraped and stored, Plumb stored from its remote write: every series, every sample")
    func matchesPrometheus() async throws {
        let root = TemporaryDirectory("plumb-remote-write")
        defer { root.remove() }
        let plumb = try await ServerProcess.start(
            config: "alerts: ./no-alerts\nmetrics:\n  line_protocol_resolution: 1\n", in: .scratch("plumb-rw"))
        defer { plumb.kill(signal: SIGKILL) }
        let exporter = try await BinaryPeer(
            "/usr/bin/prometheus-node-exporter", directory: root.path, readyPath: "/metrics"
        ) { port in
            [
                "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.cpu",
                "--collector.loadavg", "--collector.meminfo", "--collector.filesystem",
            ]
        }
        defer { exporter.stop() }
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: node
                static_configs:
                  - targets: ['127.0.0.1:\(exporter.port)']
            remote_write:
              - url: \(plumb.baseURL)/api/v1/write
                authorization:
                  credentials: \(plumb.token)
                queue_config:
                  batch_send_deadline: 500ms
                  max_samples_per_send: 500
            """
        try config.write(toFile: root.path + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try await BinaryPeer(
            "/usr/bin/prometheus", directory: root.path, readyPath: "/-/ready"
        ) { port in
            [
                "--config.file=\(root.path)/prometheus.yml", "--storage.tsdb.path=\(root.path)/tsdb",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ]
        }
        defer { prometheus.stop() }

        // Let it scrape for a while; the window is [t0, t1) in whole seconds, closed a few seconds before the reads
        // so that the remote write has caught up.
        // On the 10-second grid Plumb's periods start on, so [t0, t1) is exactly one period.
        let t0 = (Int64(Date().timeIntervalSince1970) + 2 + 9) / 10 * 10
        let t1 = t0 + 10
        try await Task.sleep(for: .seconds(Double(t1 - Int64(Date().timeIntervalSince1970)) + 4))

        func prometheusQuery(_ promql: String, at time: Double) async throws -> [[String: Any]] {
            let q = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
            let (status, body) = try await HTTP.request(
                "GET", prometheus.baseURL + "/api/v1/query?query=\(q)&time=\(time)")
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            return ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        }
        // Prometheus' window (t1 - 10.001, t1 - 0.001] holds the samples whose second is in [t0, t1).
        let at = Double(t1) - 0.001
        let window = "\(t1 - t0)s"
        var expected: [String: Int] = [:]
        // A range selector answers the raw samples, each series under its name.
        for series in try await prometheusQuery("{job=\"node\"}[\(window)]", at: at) {
            let metric = try #require(series["metric"] as? [String: String])
            let value = String((series["values"] as? [Any])?.count ?? 0)
            let labels = metric.filter { $0.key != "__name__" }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            expected["\(metric["__name__"] ?? "")|\(labels)"] = Int(value)
        }
        #expect(expected.count > 50, "Prometheus stored \(expected.count) series")

        // Plumb: every series remote write brought, with its sample count over the same seconds. Remote write
        // trails the scrapes by its batch deadline (more on a loaded machine): read until it has caught up.
        func plumbCounts() async throws -> [String: Int] {
            let (listed, listBody) = try await HTTP.request(
                "GET", plumb.baseURL + "/api/v1/metrics", token: plumb.token)
            #expect(listed == 200)
            let metrics = try JSONDecoder().decode(ListMetricsResponse.self, from: Data(listBody)).metrics
                .filter { $0.dimensions["job"] == "node" }
            var stored: [String: Int] = [:]
            for metric in metrics {
                let promName = metric.namespace == "Prometheus" ? metric.name : metric.namespace + "_" + metric.name
                let labels = metric.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: ",")
                let dimensions = metric.dimensions.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                let query = [
                    "namespace": metric.namespace, "name": metric.name, "dimensions": dimensions,
                    "statistics": "SampleCount", "period": "\(t1 - t0)", "start": "\(t0)", "end": "\(t1)",
                ].map {
                    "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.value)"
                }
                .joined(separator: "&")
                let (status, body) = try await HTTP.request(
                    "GET", plumb.baseURL + "/api/v1/metrics/statistics?" + query, token: plumb.token)
                #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
                let answer = try JSONDecoder().decode(StatisticsResponse.self, from: Data(body))
                let count = answer.datapoints.reduce(0.0) { $0 + ($1.values["SampleCount"] ?? 0) }
                if count > 0 { stored["\(promName)|\(labels)"] = Int(count) }
            }
            return stored
        }
        var stored = try await plumbCounts()
        let deadline = ContinuousClock.now + .seconds(30)
        while stored != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            stored = try await plumbCounts()
        }
        let expectedSeries = Set(expected.keys)
        let storedSeries = Set(stored.keys)
        #expect(
            storedSeries == expectedSeries,
            "missing \(expectedSeries.subtracting(storedSeries).sorted().prefix(5)), extra \(storedSeries.subtracting(expectedSeries).sorted().prefix(5))"
        )
        let differing = expected.filter { stored[$0.key] != $0.value }
        #expect(
            differing.isEmpty,
            "\(differing.prefix(5).map { "\($0.key): Prometheus \($0.value), Plumb \(stored[$0.key] ?? 0)" })")
        let samples = expected.values.reduce(0, +)
        print(
            "remote write: \(expected.count) series, \(samples) samples over \(t1 - t0) s; Plumb stored \(stored.count) series, \(stored.values.reduce(0, +)) samples"
        )
    }
}
