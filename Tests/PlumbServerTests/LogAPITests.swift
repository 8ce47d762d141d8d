import Foundation
import HummingbirdTesting
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The log API in process: ingest, search, limits, and a metric filter driving an alarm.
@Suite struct LogAPITests {
    static func withServer(_ body: @Sendable (PlumbServer, any TestClientProtocol) async throws -> Void) async throws {
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try """
        topics:
          - name: ops
        metric_filters:
          - name: web-errors
            log_group: /app/web
            pattern: ERROR
            namespace: Test/Logs
            metric: Errors
            value: 1
            default_value: 0
          - name: web-bytes
            log_group: /app/web
            pattern: "[ip, user, username, timestamp, request, status, bytes]"
            namespace: Test/Logs
            metric: Bytes
            value: $bytes
            unit: Bytes
            dimensions: {Status: $status}
        alarms:
          - name: web-errors
            namespace: Test/Logs
            metric: Errors
            statistic: Sum
            period: 60
            evaluation_periods: 1
            comparison: GreaterThanThreshold
            threshold: 0
            alarm_actions: [ops]
        """.write(toFile: alerts.path + "/logs.yaml", atomically: true, encoding: .utf8)
        let configure: (inout ServerConfig) -> Void = { $0.alerts = alerts.path }
        try await withTestServer(configure: configure) { server, client in
            try await body(server, client)
        }
    }

    static func post(
        _ client: any TestClientProtocol, _ server: PlumbServer, group: String, stream: String, _ messages: [String]
    ) async throws -> TestResponse {
        let events = messages.map { ["message": $0] }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["events": events]), as: UTF8.self)
        let path = "/api/v1/logs/" + group.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "/" + stream
        return try await client.admin(path, method: .post, body: body, server: server)
    }

    @Test("a metric filter on ERROR drives an alarm to ALARM")
    func metricFilterDrivesAlarm() async throws {
        try await Self.withServer { server, client in
            let minute = Int64(Date().timeIntervalSince1970) / 60 * 60
            await server.alarms.tick(now: minute + 60)
            #expect(server.alarms.status("web-errors")?.state == .insufficientData)

            let ok = try await Self.post(
                client, server, group: "/app/web", stream: "host-1", ["INFO all good", "INFO still good"])
            #expect(ok.status == .ok)
            #expect(ok.json["metricSamples"] as? Int == 1, "the default value, once for the batch")
            let bad = try await Self.post(
                client, server, group: "/app/web", stream: "host-1",
                ["INFO fine", "ERROR payment failed", "ERROR again"])
            #expect(bad.json["metricSamples"] as? Int == 2)

            await server.alarms.tick(now: minute + 120)
            let status = try #require(server.alarms.status("web-errors"))
            #expect(status.state == .alarm, "\(status.reason)")
            #expect(status.reason.hasPrefix("Threshold Crossed: 1 out of the last 1 datapoints [2.0 ("))
            let deliveries = try await server.outbox.deliveries(topic: "ops")
            #expect(deliveries.isEmpty, "ops has no subscriptions; the message is stored, nothing to deliver")
            let history = try await server.alarms.history(of: "web-errors")
            #expect(history.contains { $0.summary == "Successfully executed action ops" })
        }
    }

    @Test func capturedFieldsBecomeValuesAndDimensions() async throws {
        try await Self.withServer { server, client in
            _ = try await Self.post(
                client, server, group: "/app/web", stream: "access",
                [
                    #"10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 1500"#,
                    #"10.0.0.1 - frank [10/Oct/2000:13:55:37 -0700] "GET /b HTTP/1.0" 200 500"#,
                    #"10.0.0.2 - bob [10/Oct/2000:13:55:38 -0700] "GET /c HTTP/1.0" 404 20"#,
                ])
            let now = Int64(Date().timeIntervalSince1970)
            let ok = try await client.admin(
                "/api/v1/metrics/statistics?namespace=Test/Logs&name=Bytes&dimensions=Status=200&statistics=Sum,SampleCount&period=60&start=\(now - 120)&end=\(now + 60)",
                server: server)
            let points = ok.json["datapoints"] as? [[String: Any]] ?? []
            #expect(points.compactMap { $0["Sum"] as? Double }.reduce(0, +) == 2_000, "\(ok.text)")
        }
    }

    @Test func searchAndLimits() async throws {
        try await Self.withServer { server, client in
            let messages = (0..<50).map {
                $0 % 5 == 0 ? #"{"level":"ERROR","n":\#($0)}"# : #"{"level":"INFO","n":\#($0)}"#
            }
            #expect(try await Self.post(client, server, group: "/svc/api", stream: "a", messages).status == .ok)
            let page = try await client.admin(
                "/api/v1/logs/%2Fsvc%2Fapi?filter=%7B%20%24.level%20%3D%20%22ERROR%22%20%7D&limit=4", server: server)
            #expect(page.status == .ok)
            let events = page.json["events"] as? [[String: Any]] ?? []
            #expect(events.count == 4)
            let next = try #require(page.json["next"] as? String)
            let rest = try await client.admin(
                "/api/v1/logs/%2Fsvc%2Fapi?filter=%7B%20%24.level%20%3D%20%22ERROR%22%20%7D&limit=100&next=\(next)",
                server: server)
            #expect((rest.json["events"] as? [[String: Any]])?.count == 6)
            #expect(
                try await client.admin("/api/v1/logs/%2Fsvc%2Fapi?filter=%7B%20%24.level%20%3D", server: server).status
                    == .badRequest)
            #expect(try await client.admin("/api/v1/logs/%2Fnope", server: server).status == .notFound)
            let big = String(repeating: "x", count: 300 * 1_024)
            #expect(
                try await Self.post(client, server, group: "/svc/api", stream: "a", [big]).status == .contentTooLarge)
            #expect(
                try await client.admin(
                    "/api/v1/logs/%2Fsvc%2Fapi/a", method: .post, body: #"{"events": "nope"}"#, server: server
                ).status == .badRequest)
            #expect(
                try await client.admin(
                    "/api/v1/logs/bad%20group/a", method: .post, body: #"{"events": [{"message": "x"}]}"#,
                    server: server
                ).status == .badRequest)
        }
    }

    @Test func metricFiltersThroughTheAPI() async throws {
        try await Self.withServer { server, client in
            let created = try await client.admin(
                "/api/v1/metric-filters/api-warnings", method: .put,
                body: #"{"log_group": "/app/api", "pattern": "WARN", "namespace": "Test/Logs", "metric": "Warnings"}"#,
                server: server)
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.json["source"] as? String == "api")
            #expect(
                try await client.admin(
                    "/api/v1/metric-filters/web-errors", method: .put,
                    body: #"{"log_group": "/x", "pattern": "E", "namespace": "N", "metric": "M"}"#, server: server
                ).status == .conflict)
            #expect(
                try await client.admin(
                    "/api/v1/metric-filters/bad", method: .put,
                    body: #"{"log_group": "/x", "pattern": "{ $.a = ", "namespace": "N", "metric": "M"}"#,
                    server: server
                ).status == .badRequest)
            let posted = try await Self.post(
                client, server, group: "/app/api", stream: "a", ["WARN slow", "WARN slower", "INFO ok"])
            #expect(posted.json["metricSamples"] as? Int == 2)
            let list = try await client.admin("/api/v1/metric-filters", server: server)
            #expect(
                (list.json["metricFilters"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == [
                    "api-warnings", "web-bytes", "web-errors",
                ])
            #expect(
                try await client.admin("/api/v1/metric-filters/api-warnings", method: .delete, server: server).status
                    == .noContent)
            let after = try await Self.post(client, server, group: "/app/api", stream: "a", ["WARN again"])
            #expect(after.json["metricSamples"] as? Int == 0)
        }
    }
}
