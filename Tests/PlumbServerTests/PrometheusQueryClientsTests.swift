import Foundation
import PlumbTesting
import Testing

/// Real clients of the Prometheus query API against Plumb: `promtool query instant|range|series|labels` (Debian's
/// 2.42, authenticating with the token in the URL, as Basic), and the requests Grafana's Prometheus data source sends
/// on "Save & test", in the metric browser and on a panel refresh, replayed with Grafana's headers and form bodies,
/// each answer read as Grafana reads it.
@Suite("Prometheus query API clients", .serialized)
struct PrometheusQueryClientsTests {
    static func start() async throws -> (ServerProcess, Int64) {
        let plumb = try await ServerProcess.start(
            config: "alerts: ./no-alerts\nmetrics:\n  line_protocol_resolution: 1\n",
            in: .scratch("plumb-promql-clients"))
        let end = Int64(Date().timeIntervalSince1970) / 60 * 60 - 60
        for body in try PromQLCorpus.data(end: end).remoteWriteBodies() {
            let (status, _, _) = try await HTTP.exchange(
                "POST", plumb.baseURL + "/api/v1/write", body: body, token: plumb.token,
                headers: ["Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"])
            #expect(status == 204 || status == 200)
        }
        return (plumb, end)
    }

    @Test("promtool query instant, range, series and labels read Plumb as they read Prometheus")
    func promtool() async throws {
        let (plumb, end) = try await Self.start()
        defer { plumb.kill(signal: SIGKILL) }
        let url = plumb.baseURL.replacingOccurrences(of: "http://", with: "http://plumb:\(plumb.token)@")
        func run(_ arguments: [String]) async throws -> String {
            let outcome = try await Subprocess.run("/usr/bin/promtool", ["query"] + arguments, separateErrors: true)
            #expect(outcome.status == 0, "promtool query \(arguments): \(outcome.errors)")
            return outcome.text
        }
        // Instant: the value the API gives for the same query.
        let instant = try await run(["instant", "--time=\(end)", url, "sum by (instance) (conf_queue_depth)"])
        let (_, body) = try await HTTP.request(
            "GET",
            plumb.baseURL + "/api/v1/query?time=\(end)&query=" + "sum by (instance) (conf_queue_depth)"
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
            token: plumb.token)
        let result =
            ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["data"] as? [String: Any])?[
                "result"] as? [[String: Any]] ?? []
        #expect(result.count == 3, "i3 stopped reporting 20 minutes before the end")
        for series in result {
            let instance = (series["metric"] as? [String: String])?["instance"] ?? ""
            let value = (series["value"] as? [Any])?.last as? String ?? ""
            #expect(instant.contains("{instance=\"\(instance)\"} => \(value) @[\(end)]"), "\(instant)")
        }
        // Range: one line per series with every step.
        let range = try await run([
            "range", "--start=\(end - 600)", "--end=\(end)", "--step=60s", url, "conf_up{instance=\"i1\"}",
        ])
        #expect(range.contains("conf_up{instance=\"i1\", job=\"api\"} =>"), "\(range)")
        #expect(range.components(separatedBy: " @[").count - 1 == 11, "\(range)")
        // Series and label values.
        let series = try await run(["series", "--match=conf_info", url])
        #expect(series.split(separator: "\n").count == 4, "\(series)")
        #expect(series.contains("version=\"1.3.0\""), "\(series)")
        let labels = try await run(["labels", url, "instance"])
        #expect(
            labels.split(separator: "\n").map(String.init).filter { $0.hasPrefix("i") } == ["i1", "i2", "i3", "i4"])
        // A wrong token is refused.
        let refused = try await Subprocess.run(
            "/usr/bin/promtool",
            ["query", "instant", plumb.baseURL.replacingOccurrences(of: "http://", with: "http://plumb:nope@"), "1"],
            separateErrors: true)
        #expect(refused.status != 0)
    }

    @Test("Grafana's Save & test, metric browser and panel refresh: every answer parses as Grafana expects")
    func grafanaReplay() async throws {
        let (plumb, end) = try await Self.start()
        defer { plumb.kill(signal: SIGKILL) }
        let start = end - 3_600
        // Grafana sends its own headers; the data source's credential is a header it adds (here the bearer token).
        let grafana = [
            "User-Agent": "Grafana/10.4.1", "X-Grafana-Org-Id": "1", "Accept": "application/json, text/plain, */*",
        ]
        func form(_ pairs: [(String, String)]) -> [UInt8] {
            Array(
                pairs.map {
                    "\($0.0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                }.joined(separator: "&").utf8)
        }
        func send(_ method: String, _ path: String, form body: [(String, String)]? = nil) async throws -> [String: Any]
        {
            var headers = grafana
            if body != nil { headers["Content-Type"] = "application/x-www-form-urlencoded" }
            let answer = try await HTTP.exchange(
                method, plumb.baseURL + path, body: body.map(form), token: plumb.token, headers: headers)
            #expect(answer.status == 200, "\(method) \(path): \(String(decoding: answer.body, as: UTF8.self))")
            #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
            #expect(json["status"] as? String == "success", "\(path)")
            return json
        }
        func strings(_ json: [String: Any]) -> [String] { json["data"] as? [String] ?? [] }

        // Save & test: the query 1+1, then the build info (its version picks the requests Grafana makes next).
        let test = try await send("POST", "/api/v1/query", form: [("query", "1+1"), ("time", "\(end)")])
        let scalar = try #require((test["data"] as? [String: Any]))
        #expect(scalar["resultType"] as? String == "scalar")
        #expect(((scalar["result"] as? [Any])?.last as? String) == "2")
        let build = try #require(try await send("GET", "/api/v1/status/buildinfo")["data"] as? [String: Any])
        let version = (build["version"] as? String ?? "").split(separator: ".").compactMap { Int($0) }
        #expect(version.count == 3 && version[0] >= 2 && (version[0] > 2 || version[1] >= 24), "\(build)")

        // The metric browser: label names, metric names, values of a label for a metric, the series, metadata.
        let names = strings(try await send("GET", "/api/v1/labels?start=\(start)&end=\(end)"))
        #expect(Set(["__name__", "instance", "job", "le", "floor", "room"]).isSubset(of: Set(names)), "\(names)")
        let metrics = strings(try await send("GET", "/api/v1/label/__name__/values?start=\(start)&end=\(end)"))
        #expect(metrics.contains("conf_requests_total") && metrics.contains("conf_latency_seconds_bucket"))
        #expect(metrics == metrics.sorted())
        let match =
            "match%5B%5D=" + "{__name__=\"conf_up\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let instances = strings(
            try await send("GET", "/api/v1/label/instance/values?\(match)&start=\(start)&end=\(end)"))
        #expect(instances == ["i1", "i2", "i3", "i4"])
        let series = try await send("GET", "/api/v1/series?\(match)&start=\(start)&end=\(end)")
        let sets = series["data"] as? [[String: String]] ?? []
        #expect(sets.count == 4 && sets.allSatisfy { $0["__name__"] == "conf_up" && $0["job"] == "api" })
        let posted = try await send(
            "POST", "/api/v1/series", form: [("match[]", "conf_info"), ("start", "\(start)"), ("end", "\(end)")])
        #expect((posted["data"] as? [[String: String]])?.count == 4)
        let metadata = try #require(try await send("GET", "/api/v1/metadata")["data"] as? [String: [[String: String]]])
        #expect(metadata["conf_requests_total"]?.first?["type"] == "counter")
        _ = try await send("GET", "/api/v1/rules")

        // A panel refresh: a range query as a form POST, Grafana's step and alignment.
        let panel = try await send(
            "POST", "/api/v1/query_range",
            form: [
                ("query", "sum by (status) (rate(conf_requests_total[5m]))"), ("start", "\(start + 300)"),
                ("end", "\(end)"), ("step", "30"),
            ])
        let data = try #require(panel["data"] as? [String: Any])
        #expect(data["resultType"] as? String == "matrix")
        let matrix = data["result"] as? [[String: Any]] ?? []
        #expect(matrix.count == 2)
        for entry in matrix {
            let values = entry["values"] as? [[Any]] ?? []
            #expect(values.count == 111, "\(values.count) steps")
            #expect(values.allSatisfy { ($0.first as? NSNumber) != nil && Double($0.last as? String ?? "") != nil })
        }
        // The shipped dashboard: every panel's query evaluates (the $function variable as Grafana's "All" sends it).
        let dashboard = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Checkout.root + "/deploy/grafana/plumb-functions.json")))
                as? [String: Any])
        let targets = (dashboard["panels"] as? [[String: Any]] ?? []).flatMap {
            $0["targets"] as? [[String: Any]] ?? []
        }
        #expect(targets.count >= 7)
        for target in targets {
            let expr = (target["expr"] as? String ?? "").replacingOccurrences(of: "$function", with: ".*")
            _ = try await send(
                "POST", "/api/v1/query_range",
                form: [("query", expr), ("start", "\(start)"), ("end", "\(end)"), ("step", "60")])
        }
        // A panel's query that is wrong: Prometheus' error, which Grafana shows as it is.
        let wrong = try await HTTP.exchange(
            "POST", plumb.baseURL + "/api/v1/query_range",
            body: form([
                ("query", "rate(conf_up)"), ("start", "1"),
                ("end", "2"), ("step", "1"),
            ]), token: plumb.token,
            headers: grafana.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 })
        #expect(wrong.status == 400)
        let error = try #require(try JSONSerialization.jsonObject(with: Data(wrong.body)) as? [String: Any])
        #expect(error["status"] as? String == "error" && error["errorType"] as? String == "bad_data")
        #expect((error["error"] as? String ?? "").contains("expected type range vector"), "\(error)")
    }
}
