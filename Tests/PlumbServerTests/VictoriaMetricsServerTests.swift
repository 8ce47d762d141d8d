import Foundation
import PlumbTesting
import Testing

/// `plumb serve` with `storage.metrics: victoriametrics`: every metric path (line protocol, PutMetricData, metric
/// filters, the server's own metrics, statistics, the catalog, alarms) goes to a real VictoriaMetrics node, and a node that
/// cannot be reached stops the start with a message that names it.
@Suite("Serve on VictoriaMetrics", .serialized)
struct VictoriaMetricsServerTests {
    static func config(_ url: String) -> String {
        """
        storage:
          metrics: victoriametrics
          victoriametrics:
            url: \(url)
        alerts: ./no-alerts
        """
    }

    @Test("ingest, statistics, the catalog and an alarm all run on VictoriaMetrics, and PromQL sees the same series")
    func endToEnd() async throws {
        let root = TemporaryDirectory("plumb-vm")
        defer { root.remove() }
        let node = try await VictoriaMetricsProcess(directory: root.path + "/vm")
        defer { node.stop() }
        let server = try await ServerProcess.start(config: Self.config(node.baseURL), in: root)
        defer { server.kill(signal: SIGKILL) }
        #expect(server.log.contains("metrics are kept in VictoriaMetrics"), "\(server.log)")
        let token = server.token
        let now = Int64(Date().timeIntervalSince1970)
        let minute = (now / 60) * 60

        // Line protocol: 30 samples in each of the last three minutes, 120 to 149 (so each minute's p90 is 146).
        var lines = ""
        for m in 1...3 {
            for i in 0..<30 { lines += "App,Host=web-1 Latency=\(120 + i) \(minute - Int64(m) * 60 + Int64(i))\n" }
        }
        let (written, writeBody) = try await HTTP.request(
            "POST", server.baseURL + "/write?precision=s&resolution=1", body: Array(lines.utf8), token: token)
        #expect(written == 204, "\(String(decoding: writeBody, as: UTF8.self))")
        // PutMetricData with a statistic set.
        let put =
            #"{"namespace": "App", "data": [{"name": "Jobs", "timestamp": \#(minute - 60), "statistics": {"sampleCount": 4, "sum": 10, "min": 1, "max": 4}, "unit": "Count"}]}"#
        let (putStatus, putBody) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/metrics", body: Array(put.utf8), token: token)
        #expect(putStatus == 204, "\(String(decoding: putBody, as: UTF8.self))")

        let (statsStatus, statsBody) = try await HTTP.request(
            "GET",
            server.baseURL
                + "/api/v1/metrics/statistics?namespace=App&name=Latency&dimensions=Host=web-1&statistics=SampleCount,Sum,Maximum,p90&period=60&start=\(minute - 180)&end=\(minute)",
            token: token)
        #expect(statsStatus == 200, "\(String(decoding: statsBody, as: UTF8.self))")
        let points = (json(statsBody)["datapoints"] as? [[String: Any]]) ?? []
        #expect(points.count == 3, "\(String(decoding: statsBody, as: UTF8.self))")
        for point in points {
            #expect(point["SampleCount"] as? Double == 30)
            #expect(point["Sum"] as? Double == Double((120..<150).reduce(0, +)))
            #expect(point["Maximum"] as? Double == 149)
            #expect(point["p90"] as? Double == 146)
        }
        let (_, jobsBody) = try await HTTP.request(
            "GET",
            server.baseURL
                + "/api/v1/metrics/statistics?namespace=App&name=Jobs&statistics=SampleCount,Sum,Minimum,Maximum&period=60&start=\(minute - 60)&end=\(minute)",
            token: token)
        let jobs = (json(jobsBody)["datapoints"] as? [[String: Any]])?.first ?? [:]
        #expect(
            jobs["SampleCount"] as? Double == 4 && jobs["Sum"] as? Double == 10 && jobs["Minimum"] as? Double == 1
                && jobs["Maximum"] as? Double == 4, "\(String(decoding: jobsBody, as: UTF8.self))")

        let (_, listBody) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/metrics?namespace=App", token: token)
        let listed = ((json(listBody)["metrics"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
        #expect(Set(listed) == ["Latency", "Jobs"], "\(String(decoding: listBody, as: UTF8.self))")

        // PromQL reads the same samples through the contract: 90 of them in the three minutes, the largest 149.
        for (query, expected) in [
            ("count_over_time(App_Latency{Host=\"web-1\"}[3m])", "90"), ("max_over_time(App_Latency[3m])", "149"),
        ] {
            let q = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let (status, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/query?query=\(q)&time=\(minute - 1)", token: token)
            let result = ((json(body)["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            #expect(
                status == 200 && result.count == 1 && (result.first?["value"] as? [Any])?.last as? String == expected,
                "\(query): \(String(decoding: body, as: UTF8.self))")
        }

        // A metric filter turns log events into samples in VictoriaMetrics (inside the log write).
        let filter =
            #"{"log_group": "/app/web", "pattern": "ERROR", "namespace": "App/Web", "metric": "Errors", "value": 1}"#
        let (filterStatus, filterBody) = try await HTTP.request(
            "PUT", server.baseURL + "/api/v1/metric-filters/web-errors", body: Array(filter.utf8), token: token)
        #expect((200..<300).contains(filterStatus), "\(String(decoding: filterBody, as: UTF8.self))")
        let events =
            #"{"events": [{"timestamp": \#(now * 1_000 - 5_000), "message": "ERROR one"}, {"timestamp": \#(now * 1_000 - 4_000), "message": "ok"}, {"timestamp": \#(now * 1_000 - 3_000), "message": "ERROR two"}]}"#
        let (logged, loggedBody) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/logs/%2Fapp%2Fweb/host-1", body: Array(events.utf8), token: token)
        #expect((200..<300).contains(logged), "\(String(decoding: loggedBody, as: UTF8.self))")
        let (_, errorsBody) = try await HTTP.request(
            "GET",
            server.baseURL
                + "/api/v1/metrics/statistics?namespace=App/Web&name=Errors&statistics=SampleCount,Sum&period=3600&start=\((now / 3_600) * 3_600 - 3_600)&end=\((now / 3_600) * 3_600 + 3_600)",
            token: token)
        let errors = ((json(errorsBody)["datapoints"] as? [[String: Any]]) ?? []).reduce(0.0) {
            $0 + (($1["Sum"] as? Double) ?? 0)
        }
        #expect(errors == 2, "\(String(decoding: errorsBody, as: UTF8.self))")

        // An alarm evaluates on the data in VictoriaMetrics.
        let alarm =
            #"{"namespace": "App", "metric": "Latency", "dimensions": {"Host": "web-1"}, "statistic": "Maximum", "period": 60, "evaluation_periods": 3, "comparison": "GreaterThanThreshold", "threshold": 140}"#
        let (created, createdBody) = try await HTTP.request(
            "PUT", server.baseURL + "/api/v1/alarms/vm-latency", body: Array(alarm.utf8), token: token)
        #expect(created == 201, "\(String(decoding: createdBody, as: UTF8.self))")
        let state = try await waitFor(
            "the alarm to leave INSUFFICIENT_DATA", timeout: .seconds(45), every: .milliseconds(500)
        ) {
            () async throws -> String? in
            let (_, body) = try await HTTP.request("GET", server.baseURL + "/api/v1/alarms/vm-latency", token: token)
            let state = json(body)["state"] as? String
            return state == "INSUFFICIENT_DATA" ? nil : state
        }
        #expect(state == "ALARM")

        // The server's own metrics (the swift-metrics reporter) and the same series through PromQL.
        let own = try await waitFor(
            "the reporter's first report (\(server.log.suffix(2_000)))", timeout: .seconds(30),
            every: .milliseconds(500)
        ) {
            () async throws -> [String: Any]? in
            let (_, body) = try await HTTP.request(
                "GET", node.baseURL + "/api/v1/series?match%5B%5D=%7Bplumb_namespace%3D~%22Plumb%2F.%2A%22%7D&start=0")
            return ((json(body)["data"] as? [[String: Any]]) ?? []).isEmpty ? nil : json(body)
        }
        #expect(((own["data"] as? [[String: Any]]) ?? []).count > 0, "\(server.log.suffix(3_000))")
        let (_, promBody) = try await HTTP.request(
            "GET",
            node.baseURL
                + "/api/v1/query?query=count_over_time(App_Latency%7BHost%3D%22web-1%22%7D%5B10m%5D)&time=\(now)&latency_offset=0"
        )
        let result = ((json(promBody)["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first
        #expect((result?["value"] as? [Any])?.last as? String == "90", "\(String(decoding: promBody, as: UTF8.self))")
    }

    @Test("a VictoriaMetrics node that cannot be reached stops the start, and the message names it")
    func unreachable() async throws {
        let root = TemporaryDirectory("plumb-vm-down")
        defer { root.remove() }
        let port = ServerProcess.freePort()
        let server = try await ServerProcess.start(
            config: Self.config("http://127.0.0.1:\(port)"), in: root, ready: false)
        defer { server.kill(signal: SIGKILL) }
        #expect(try await server.waitExit(timeout: .seconds(60)), "still running")
        #expect(server.process.exitStatus() != 0)
        #expect(
            server.log.contains("storage.victoriametrics") && server.log.contains("127.0.0.1:\(port)"), "\(server.log)")
    }
}
