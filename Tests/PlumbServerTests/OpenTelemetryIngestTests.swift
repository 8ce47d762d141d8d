import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// OTLP/HTTP from real clients: the OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporters (cumulative on
/// `listen`, delta on the `otlp.listen` listener), hand-built requests in OTLP's JSON encoding, and refusals. In the
/// serial pass (its name ends in TimingTests): the SDK exports on the wall clock, every 500 ms.
@Suite("OpenTelemetry ingest")
struct OpenTelemetryIngestTimingTests {
    static func server(otlpPort: Int? = nil) async throws -> ServerProcess {
        var config = "alerts: ./no-alerts\nmetrics:\n  line_protocol_resolution: 1\n"
        if let otlpPort { config += "otlp:\n  listen: 127.0.0.1:\(otlpPort)\n" }
        return try await ServerProcess.start(config: config, in: .scratch("plumb-otlp"))
    }

    /// One statistic per period over the last hour, summed or taken from the last period.
    static func statistics(
        _ plumb: ServerProcess, _ namespace: String, _ name: String, _ dimensions: [String: String],
        _ statistics: String, period: Int = 3_600
    ) async throws -> [[String: Double]] {
        let query = [
            "namespace": namespace, "name": name,
            "dimensions": dimensions.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "statistics": statistics, "period": String(period),
        ].map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.value)" }
            .joined(separator: "&")
        let (status, body) = try await HTTP.request(
            "GET", plumb.baseURL + "/api/v1/metrics/statistics?" + query, token: plumb.token)
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
        return try JSONDecoder().decode(StatisticsResponse.self, from: Data(body)).datapoints.map(\.values)
    }

    static func logEvents(_ plumb: ServerProcess, group: String, filter: String) async throws -> [[String: Any]] {
        let f = filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? filter
        let (status, body) = try await HTTP.request(
            "GET", plumb.baseURL + "/api/v1/logs/\(group)?filter=\(f)", token: plumb.token)
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
        return (json(body)["events"] as? [[String: Any]]) ?? []
    }

    static func close(_ a: Double?, _ b: Double) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= 1e-9 * max(1, abs(b))
    }

    @Test(
        "the Python SDK's counter, up-down counter, gauge, histograms and logs read back as recorded",
        arguments: ["cumulative", "delta"])
    func sdkExport(temporality: String) async throws {
        let otlpPort = ServerProcess.freePort()
        let plumb = try await Self.server(otlpPort: otlpPort)
        defer { plumb.kill(signal: SIGKILL) }
        let service = "shop-\(temporality)"
        // Cumulative through the main listener, delta through the OTLP one.
        let endpoint = temporality == "cumulative" ? plumb.baseURL : "http://127.0.0.1:\(otlpPort)"
        let run = try await Subprocess.run(
            "/usr/bin/env", ["python3", Checkout.root + "/Tests/peers/otel_export.py", endpoint, plumb.token, service],
            separateErrors: true,
            environment: ["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": temporality])
        #expect(run.status == 0, "\(run.errors)")
        let recorded = json(run.output)
        // The exporter logs a refused or partial export; none may happen.
        #expect(!run.errors.contains("Failed to export"), "\(run.errors)")
        let base = ["job": service, "instance": "instance-1"]

        // Counter: what each period counted adds up to what was added.
        let orders = try await Self.statistics(
            plumb, "shop", "orders_total", base.merging(["region": "eu"]) { a, _ in a }, "Sum")
        let counted = orders.reduce(0) { $0 + ($1["Sum"] ?? 0) }
        #expect(counted == recorded["orders"] as? Double, "orders: Plumb \(counted), SDK \(recorded["orders"] ?? "")")

        // Up-down counter and gauge: the last value stored is the last one recorded.
        let depth = try await Self.statistics(plumb, "shop", "queue_depth", base, "Maximum", period: 1)
        #expect(depth.last?["Maximum"] == recorded["depth"] as? Double, "depth: \(depth.suffix(3))")
        let temperature = try await Self.statistics(plumb, "shop", "temperature_celsius", base, "Maximum", period: 1)
        #expect(
            Self.close(temperature.last?["Maximum"], recorded["temperature"] as? Double ?? .nan),
            "temperature: \(temperature.suffix(3)), SDK \(recorded["temperature"] ?? "")")

        // Histograms (explicit buckets, exponential): count, sum, minimum and maximum are exact; percentiles exist.
        for (name, key, dimensions) in [
            ("request_duration_milliseconds", "duration", base.merging(["route": "/pay"]) { a, _ in a }),
            ("payload_size_bytes", "size", base),
        ] {
            let expected = try #require(recorded[key] as? [String: Double])
            let points = try await Self.statistics(
                plumb, "shop", name, dimensions, "SampleCount,Sum,Minimum,Maximum,p50", period: 3_600)
            let count = points.reduce(0) { $0 + ($1["SampleCount"] ?? 0) }
            let sum = points.reduce(0) { $0 + ($1["Sum"] ?? 0) }
            let minimum = points.compactMap { $0["Minimum"] }.min()
            let maximum = points.compactMap { $0["Maximum"] }.max()
            #expect(count == expected["count"], "\(name) count: Plumb \(count), SDK \(expected["count"] ?? 0)")
            #expect(Self.close(sum, expected["sum"] ?? .nan), "\(name) sum: Plumb \(sum), SDK \(expected["sum"] ?? 0)")
            #expect(minimum == expected["min"], "\(name) min: Plumb \(minimum ?? .nan), SDK \(expected["min"] ?? 0)")
            #expect(maximum == expected["max"], "\(name) max: Plumb \(maximum ?? .nan), SDK \(expected["max"] ?? 0)")
            let median = try #require(points.last?["p50"], "\(name): no p50")
            #expect(median >= (expected["min"] ?? 0) && median <= (expected["max"] ?? 0))
        }

        // Logs: in the group named by service.name, each searchable by severity, trace id and attribute.
        let records = try #require(recorded["logs"] as? [[String: Any]])
        let all = try await Self.logEvents(plumb, group: service, filter: "")
        #expect(all.count == records.count, "\(all.map { $0["message"] ?? "" })")
        let failed = try #require(records.first)
        let traceID = try #require(failed["traceId"] as? String)
        for (filter, body) in [
            ("{ $.severity = \"ERROR\" }", "payment failed for order 17"),
            ("{ $.traceId = \"\(traceID)\" }", "payment failed for order 17"),
            ("{ $.spanId = \"\(failed["spanId"] as? String ?? "")\" }", "payment failed for order 17"),
            ("{ $.attributes.user = \"grace\" }", "payment ok"),
            ("{ $.severity = \"WARN\" }", "queue is deep"),
        ] {
            let events = try await Self.logEvents(plumb, group: service, filter: filter)
            #expect(events.count == 1, "\(filter): \(events.count) events")
            let message = json((events.first?["message"] as? String) ?? "{}")
            #expect(message["body"] as? String == body, "\(filter): \(message)")
            #expect(events.first?["stream"] as? String == "instance-1")
        }
    }

    /// OTLP's JSON encoding, hand-built as the specification writes it: hex trace and span ids, enums as integers,
    /// 64-bit integers as strings, fields Plumb does not know (ignored).
    @Test("OTLP JSON: hex ids, integer enums, int64 as strings, unknown fields ignored; partial success named")
    func jsonEncoding() async throws {
        let plumb = try await Self.server()
        defer { plumb.kill(signal: SIGKILL) }
        let nanos = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
        let metrics = """
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-app"}}],
              "futureField":{"x":1}},
              "scopeMetrics":[{"scope":{"name":"hand"},"metrics":[
                {"name":"jobs.done","unit":"1","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[
                  {"asInt":"40","startTimeUnixNano":"\(nanos - 2_000_000_000)","timeUnixNano":"\(nanos - 1_000_000_000)",
                   "attributes":[{"key":"queue","value":{"stringValue":"mail"}}]},
                  {"asInt":2,"startTimeUnixNano":"\(nanos - 1_000_000_000)","timeUnixNano":"\(nanos)",
                   "attributes":[{"key":"queue","value":{"stringValue":"mail"}}]}]}},
                {"name":"jobs.latency","unit":"s","histogram":{"aggregationTemporality":1,"dataPoints":[
                  {"count":"4","sum":10,"min":0.5,"max":6,"bucketCounts":["1","2","1"],"explicitBounds":[1,5],
                   "timeUnixNano":"\(nanos)"}]}},
                {"name":"jobs.bad","gauge":{"dataPoints":[{"asDouble":1,"timeUnixNano":"\(nanos)",
                   "attributes":\((0..<31).map { "{\"key\":\"k\($0)\",\"value\":{\"intValue\":\"\($0)\"}}" }.joined(separator: ",").wrappedInBrackets)}]}}
              ]}]}]}
            """
        let (status, headers, body) = try await HTTP.exchange(
            "POST", plumb.baseURL + "/v1/metrics", body: Array(metrics.utf8), token: plumb.token,
            headers: ["Content-Type": "application/json"])
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
        #expect(headers["content-type"] == "application/json")
        let partial = try #require(
            json(body)["partialSuccess"] as? [String: Any], "\(String(decoding: body, as: UTF8.self))")
        #expect("\(partial["rejectedDataPoints"] ?? "")" == "1")
        #expect((partial["errorMessage"] as? String ?? "").contains("32 dimensions (at most 30)"))

        let done = try await Self.statistics(plumb, "jobs", "done_total", ["job": "json-app", "queue": "mail"], "Sum")
        #expect(done.reduce(0) { $0 + ($1["Sum"] ?? 0) } == 42)
        let latency = try await Self.statistics(
            plumb, "jobs", "latency_seconds", ["job": "json-app"], "SampleCount,Sum,Minimum,Maximum")
        #expect(latency.first?["SampleCount"] == 4 && latency.first?["Sum"] == 10)
        #expect(latency.first?["Minimum"] == 0.5 && latency.first?["Maximum"] == 6)

        let logs = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-app"}}]},
              "scopeLogs":[{"scope":{"name":"hand"},"logRecords":[
                {"timeUnixNano":"\(nanos)","severityNumber":17,"severityText":"ERROR",
                 "body":{"stringValue":"disk full"},"traceId":"5b8efff798038103d269b633813fc60c",
                 "spanId":"eee19b7ec3c1b174","attributes":[{"key":"disk","value":{"stringValue":"/dev/sda"}}],
                 "unknownField":true},
                {"observedTimeUnixNano":"\(nanos)","severityNumber":9,"body":{"kvlistValue":{"values":[
                  {"key":"event","value":{"stringValue":"login"}},{"key":"count","value":{"intValue":"3"}}]}}}]}]}]}
            """
        let (logStatus, logBody) = try await Self.post(plumb, "/v1/logs", Array(logs.utf8), type: "application/json")
        #expect(logStatus == 200, "\(String(decoding: logBody, as: UTF8.self))")
        let byTrace = try await Self.logEvents(
            plumb, group: "json-app", filter: "{ $.traceId = \"5b8efff798038103d269b633813fc60c\" }")
        #expect(byTrace.count == 1)
        let message = json((byTrace.first?["message"] as? String) ?? "{}")
        #expect(message["spanId"] as? String == "eee19b7ec3c1b174")
        #expect(message["body"] as? String == "disk full")
        #expect((message["attributes"] as? [String: Any])?["disk"] as? String == "/dev/sda")
        let structured = try await Self.logEvents(plumb, group: "json-app", filter: "{ $.body.event = \"login\" }")
        #expect(structured.count == 1)
        #expect(json((structured.first?["message"] as? String) ?? "{}")["severity"] as? String == "INFO")
    }

    static func post(
        _ plumb: ServerProcess, _ path: String, _ body: [UInt8], type: String, encoding: String? = nil,
        token: String? = nil
    ) async throws -> (Int, [UInt8]) {
        var headers = ["Content-Type": type]
        if let encoding { headers["Content-Encoding"] = encoding }
        let (status, _, answer) = try await HTTP.exchange(
            "POST", plumb.baseURL + path, body: body, token: token ?? plumb.token, headers: headers)
        return (status, answer)
    }

    @Test("refusals: media type, truncated protobuf, wrong JSON types, bad gzip, a gzip bomb; nothing stored")
    func refusals() async throws {
        let plumb = try await Self.server()
        defer { plumb.kill(signal: SIGKILL) }
        let (_, before) = try await HTTP.request("GET", plumb.baseURL + "/api/v1/metrics", token: plumb.token)
        // A valid request's first bytes: a truncated protobuf.
        let nanos = UInt64(Date().timeIntervalSince1970) * 1_000_000_000
        let valid = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"refused.gauge","gauge":{"dataPoints":[
              {"asDouble":1,"timeUnixNano":"\(nanos)"}]}}]}]}]}
            """
        let protobuf: [UInt8] = [0x0A, 0x20, 0x12, 0x1E, 0x12, 0x1C, 0x0A, 0x0D] + Array("refused".utf8)
        let bomb = try await gzip([UInt8](repeating: 0x20, count: 40 * 1_048_576))
        let cases: [(String, [UInt8], String, String?, Int, String)] = [
            ("/v1/metrics", Array(valid.utf8), "text/plain", nil, 415, "application/x-protobuf or application/json"),
            ("/v1/metrics", protobuf, "application/x-protobuf", nil, 400, "ExportMetricsServiceRequest"),
            ("/v1/metrics", Array("{\"resourceMetrics\":{}}".utf8), "application/json", nil, 400, "OTLP JSON"),
            (
                "/v1/metrics", Array("{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":7}]}]}]}".utf8),
                "application/json", nil, 400, "OTLP JSON"
            ),
            ("/v1/metrics", Array(valid.utf8), "application/json", "gzip", 400, "not gzip"),
            ("/v1/metrics", Array(valid.utf8), "application/json", "br", 415, "Content-Encoding 'br'"),
            ("/v1/logs", bomb, "application/json", "gzip", 413, "inflates to more than"),
            ("/v1/logs", [0x0A, 0xFF], "application/x-protobuf", nil, 400, "ExportLogsServiceRequest"),
        ]
        for (path, body, type, encoding, expected, words) in cases {
            let (status, answer) = try await Self.post(plumb, path, body, type: type, encoding: encoding)
            #expect(status == expected, "\(path) \(type) \(encoding ?? ""): \(status)")
            // The google.rpc.Status: JSON for JSON requests, protobuf (field 2 the message) for protobuf ones.
            let text = String(decoding: answer, as: UTF8.self)
            #expect(text.contains(words), "\(path) \(type): \(text)")
        }
        // No credential: 401.
        let (unauthorized, _, _) = try await HTTP.exchange(
            "POST", plumb.baseURL + "/v1/metrics", body: Array(valid.utf8),
            headers: ["Content-Type": "application/json"])
        #expect(unauthorized == 401)
        let (_, after) = try await HTTP.request("GET", plumb.baseURL + "/api/v1/metrics", token: plumb.token)
        let names = (json(after)["metrics"] as? [[String: Any]] ?? []).compactMap { $0["namespace"] as? String }
        #expect(!names.contains("refused"), "a refused request stored something")
        #expect(json(before)["metrics"] != nil)
    }

    func gzip(_ bytes: [UInt8]) async throws -> [UInt8] {
        let outcome = try await Subprocess.run("/bin/gzip", ["-c", "-1"], input: Data(bytes), separateErrors: true)
        return Array(outcome.output)
    }
}

extension String {
    fileprivate var wrappedInBrackets: String { "[" + self + "]" }
}
