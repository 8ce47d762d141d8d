import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// Three `plumb serve` nodes behind nginx (run from `deploy/cluster/nginx.conf`), sharing VictoriaMetrics (metrics)
/// and PostgreSQL (logs, the cluster): everything written through the balancer is read back through it, a node
/// SIGKILLed mid-run costs no acknowledged write, and the cluster's status through the balancer shows it down.
@Suite("Cluster behind nginx", .serialized)
struct LoadBalancedClusterTests {
    static let token = "cluster-admin-" + UUID().uuidString.lowercased()

    static func config(postgres: String, victoriaMetrics: String, node: String, port: Int) -> String {
        """
        admin_token_env: PLUMB_TEST_CLUSTER_TOKEN
        storage:
          metrics: victoriametrics
          victoriametrics:
            url: \(victoriaMetrics)
          logs: postgres
          postgres:
            url: \(postgres)
            timeout: 5
        cluster:
          node: \(node)
          url: http://127.0.0.1:\(port)
        alerts: ./no-alerts
        """
    }

    /// POST /write with `count` samples of series App/Hits{Host=h} at second `start`…; the HTTP status.
    static func write(_ base: String, host: String, start: Int64, count: Int) async -> Int {
        let lines = (0..<count).map { "App,Host=\(host) Hits=1 \(start + Int64($0))" }.joined(separator: "\n")
        let answer = try? await HTTP.request(
            "POST", base + "/write?precision=s&resolution=1", body: Array(lines.utf8), token: token, timeout: 30)
        return answer?.0 ?? 0
    }

    static func putLogs(_ base: String, batch: Int) async -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let events = (0..<10).map { #"{"timestamp": \#(now + Int64($0)), "message": "batch \#(batch) event \#($0)"}"# }
        let answer = try? await HTTP.request(
            "POST", base + "/api/v1/logs/app/web",
            body: Array(#"{"events": [\#(events.joined(separator: ","))]}"#.utf8),
            token: token, timeout: 30)
        return answer?.0 ?? 0
    }

    @Test("writes through the balancer are all read back through it, across a node's SIGKILL")
    func throughTheBalancer() async throws {
        let root = TemporaryDirectory("plumb-lb")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let victoriaMetrics = try await VictoriaMetricsProcess(directory: root.path + "/vm")
        defer { victoriaMetrics.stop() }
        let directories = (1...3).map { TemporaryDirectory("plumb-lb-\($0)") }
        defer { for directory in directories { directory.remove() } }
        var nodes: [ServerProcess] = []
        defer { for node in nodes { node.kill(signal: SIGKILL) } }
        for i in 1...3 {
            let port = ServerProcess.freePort()
            nodes.append(
                try await ServerProcess.start(
                    config: Self.config(
                        postgres: postgres.url, victoriaMetrics: victoriaMetrics.baseURL, node: "web-\(i)", port: port),
                    in: directories[i - 1], port: port,
                    environment: ["PLUMB_TEST_CLUSTER_TOKEN": Self.token]))
        }
        let nginx = try await NginxProcess(
            configuration: String(contentsOfFile: Checkout.root + "/deploy/cluster/nginx.conf", encoding: .utf8),
            upstreams: nodes.map { "127.0.0.1:\($0.port)" }, directory: root.path + "/nginx")
        defer { nginx.stop() }
        let base = nginx.baseURL

        // Rounds of writes through nginx; a node dies without a word after the third.
        let minute = (Int64(Date().timeIntervalSince1970) / 60 - 10) * 60
        var acknowledgedSamples = 0
        var acknowledgedEvents = 0
        var refused = 0
        for round in 0..<8 {
            if round == 3 { nodes[2].kill(signal: SIGKILL) }
            for request in 0..<6 {
                let n = round * 6 + request
                if await Self.write(base, host: "h\(n)", start: minute, count: 50) == 204 {
                    acknowledgedSamples += 50
                } else {
                    refused += 1
                }
                if await Self.putLogs(base, batch: n) == 200 { acknowledgedEvents += 10 } else { refused += 1 }
            }
        }
        print(
            "cluster behind nginx: \(acknowledgedSamples) samples and \(acknowledgedEvents) events acknowledged, \(refused) requests refused"
        )
        // nginx passes a request it could not send to the next node; only one already sent on a kept-alive connection
        // to the node as it died comes back refused (502), and the client would retry it.
        #expect(refused <= 2, "\(refused) of 96 requests refused")

        // Read back through the balancer: every acknowledged sample and event, once.
        let (catalogStatus, catalog) = try await HTTP.request(
            "GET", base + "/api/v1/metrics?namespace=App", token: Self.token)
        #expect(catalogStatus == 200)
        let hosts = try JSONDecoder().decode(ListMetricsResponse.self, from: Data(catalog)).metrics.compactMap {
            $0.dimensions["Host"]
        }
        var samples = 0.0
        for host in Set(hosts) {
            let (_, body) = try await HTTP.request(
                "GET",
                base
                    + "/api/v1/metrics/statistics?namespace=App&name=Hits&dimensions=Host=\(host)&statistics=SampleCount&period=60&start=\(minute)&end=\(minute + 60)",
                token: Self.token)
            samples += try JSONDecoder().decode(StatisticsResponse.self, from: Data(body)).datapoints.compactMap {
                $0.values["SampleCount"]
            }
            .reduce(0, +)
        }
        #expect(Int(samples) == acknowledgedSamples, "\(Set(hosts).count) series")
        let events = try await PostgresClusterTests.messages(base: base, token: Self.token)
        #expect(events.count == acknowledgedEvents && Set(events).count == events.count)

        // The cluster through the balancer: the killed node is down, one leader among the others.
        let status = try await waitFor("web-3 shown down", timeout: .seconds(30)) { () async throws -> ClusterStatus? in
            guard let (_, body) = try? await HTTP.request("GET", base + "/api/v1/cluster", token: Self.token),
                let status = try? JSONDecoder().decode(ClusterStatus.self, from: Data(body)),
                status.nodes.first(where: { $0.name == "web-3" })?.alive == false, status.leader != nil
            else { return nil }
            return status
        }
        #expect(status.nodes.filter(\.alive).map(\.name).sorted() == ["web-1", "web-2"])
        #expect(status.leader != "web-3")
    }
}
