import Foundation
import PlumbOpen
import PlumbTesting
import Testing

/// The same data — several hundred series: counters with resets, gauges, a classic histogram, series with gaps and
/// ends — goes into a real Prometheus (Debian's 2.42, backfilled by `promtool tsdb create-blocks-from openmetrics`) and
/// into Plumb (by remote write). Then every query of `PromQLCorpus` runs on both, instant at two times and as a range,
/// and the answers must be the same series with the same values (1e-9 relative) at the same timestamps; the queries
/// Prometheus refuses, Plumb refuses with the same status and error type.
@Suite("PromQL conformance with Prometheus", .serialized)
struct PromQLConformanceTests {
    @Test("every corpus query answers as Prometheus 2.42 answers it, instant and range")
    func sameAnswers() async throws {
        let root = TemporaryDirectory("plumb-promql")
        defer { root.remove() }
        let now = Int64(Date().timeIntervalSince1970)
        let end = now / 60 * 60 - 120
        let data = PromQLCorpus.data(end: end)

        // Prometheus: the data as OpenMetrics, turned into blocks, served by a real Prometheus.
        try data.openMetrics().write(toFile: root.path + "/data.om", atomically: true, encoding: .utf8)
        let created = try await Subprocess.run(
            "/usr/bin/promtool",
            ["tsdb", "create-blocks-from", "openmetrics", root.path + "/data.om", root.path + "/tsdb"])
        #expect(created.status == 0, "\(created.text)")
        try "global:\n  scrape_interval: 1m\n".write(
            toFile: root.path + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try await BinaryPeer("/usr/bin/prometheus", directory: root.path, readyPath: "/-/ready") {
            port in
            [
                "--config.file=\(root.path)/prometheus.yml", "--storage.tsdb.path=\(root.path)/tsdb",
                "--storage.tsdb.retention.time=30d", "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ]
        }
        defer { prometheus.stop() }

        // Plumb: the same samples by remote write.
        let plumb = try await ServerProcess.start(
            config: "alerts: ./no-alerts\nmetrics:\n  line_protocol_resolution: 1\n", in: .scratch("plumb-promql"))
        defer { plumb.kill(signal: SIGKILL) }
        for body in try data.remoteWriteBodies() {
            let (status, _, answer) = try await HTTP.exchange(
                "POST", plumb.baseURL + "/api/v1/write", body: body, token: plumb.token,
                headers: ["Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"])
            #expect(status == 204 || status == 200, "\(String(decoding: answer, as: UTF8.self))")
        }

        let times = [end, end - 433]
        let range = (start: end - 2_400 + 7, end: end, step: 45)
        var compared = 0
        var failures: [String] = []
        for query in PromQLCorpus.queries {
            let q = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
            var requests = times.map { "/api/v1/query?query=\(q)&time=\($0)" }
            requests.append("/api/v1/query_range?query=\(q)&start=\(range.start)&end=\(range.end)&step=\(range.step)")
            for path in requests {
                let (expectedStatus, expectedBody) = try await HTTP.request("GET", prometheus.baseURL + path)
                let (status, body) = try await HTTP.request("GET", plumb.baseURL + path, token: plumb.token)
                let expected = try PromAnswer(expectedStatus, expectedBody)
                let got = try PromAnswer(status, body)
                compared += 1
                if let difference = expected.difference(from: got, ordered: query.hasPrefix("sort")) {
                    failures.append(
                        "\(query) [\(path.hasPrefix("/api/v1/query_range") ? "range" : "instant")]: \(difference)")
                }
            }
        }
        let shown = failures.prefix(60).joined(separator: "\n")
        #expect(failures.isEmpty, "\(failures.count) of \(compared) answers differ:\n\(shown)")
        #expect(PromQLCorpus.queries.count >= 150)
    }
}

/// One answer of the query API, parsed for comparison.
struct PromAnswer {
    var status: Int
    var errorType: String?
    var resultType = ""
    /// Series (labels as text) → [(time, value)]; a scalar is the series "".
    var series: [String: [(Double, String)]] = [:]
    var order: [String] = []

    init(_ status: Int, _ body: [UInt8]) throws {
        self.status = status
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            "\(String(decoding: body, as: UTF8.self))")
        guard json["status"] as? String == "success" else {
            errorType = json["errorType"] as? String
            return
        }
        let data = try #require(json["data"] as? [String: Any])
        resultType = data["resultType"] as? String ?? ""
        func pair(_ any: Any?) -> (Double, String)? {
            guard let p = any as? [Any], p.count == 2 else { return nil }
            return ((p[0] as? NSNumber)?.doubleValue ?? .nan, p[1] as? String ?? "")
        }
        switch resultType {
        case "scalar", "string":
            series[""] = pair(data["result"]).map { [$0] } ?? []
        default:
            for entry in data["result"] as? [[String: Any]] ?? [] {
                let metric = (entry["metric"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
                let points =
                    entry["values"].map { ($0 as? [Any] ?? []).compactMap(pair) } ?? pair(entry["value"]).map { [$0] }
                    ?? []
                series[metric] = points
                order.append(metric)
            }
        }
    }

    static func same(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        guard let x = Double(a), let y = Double(b) else { return false }
        if x.isNaN && y.isNaN { return true }
        if x.isInfinite || y.isInfinite { return x == y }
        return abs(x - y) <= 1e-9 * max(abs(x), abs(y)) || abs(x - y) < 1e-12
    }

    /// What differs, or nil when the answers are the same.
    func difference(from got: PromAnswer, ordered: Bool) -> String? {
        if status != got.status || errorType != got.errorType {
            return "Prometheus \(status) \(errorType ?? "success"), Plumb \(got.status) \(got.errorType ?? "success")"
        }
        if errorType != nil { return nil }
        if resultType != got.resultType { return "result type \(resultType) vs \(got.resultType)" }
        let missing = Set(series.keys).subtracting(got.series.keys)
        let extra = Set(got.series.keys).subtracting(series.keys)
        if !missing.isEmpty || !extra.isEmpty {
            return
                "series only in Prometheus: \(missing.sorted().prefix(3)); only in Plumb: \(extra.sorted().prefix(3))"
        }
        for (name, points) in series {
            let other = got.series[name]!
            guard points.count == other.count else {
                return "\(name): \(points.count) points vs \(other.count): \(points.prefix(3)) vs \(other.prefix(3))"
            }
            for (p, o) in zip(points, other) where p.0 != o.0 || !Self.same(p.1, o.1) {
                return "\(name) at \(p.0): \(p.1) vs \(o.0): \(o.1)"
            }
        }
        if ordered && order != got.order { return "order \(order.prefix(4)) vs \(got.order.prefix(4))" }
        return nil
    }
}
