import Foundation
import HummingbirdTesting
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// Async invocation through the API: durable queueing, the failure destination, and a SIGKILL with queued events.
@Suite("Async invocation", .serialized)
struct AsyncInvokeTests {
    @Test func aFailingEventLandsOnItsFailureTopic() async throws {
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try
            "topics:\n  - name: dead-letters\n    subscriptions:\n      - {protocol: webhook, endpoint: \"http://127.0.0.1:9/hook\"}\n"
            .write(toFile: alerts.path + "/t.yaml", atomically: true, encoding: .utf8)
        let configure: (inout ServerConfig) -> Void = {
            $0.alerts = alerts.path
            var settings = ServerConfig.FunctionSettings()
            settings.onFailure = "dead-letters"
            settings.maximumRetryAttempts = 0
            $0.functions["probe.fail"] = settings
        }
        try await withTestServer(configure: configure) { server, client in
            let accepted = try await client.admin(
                "/api/v1/functions/probe.fail/invoke?type=Event", method: .post, body: #"{"order": 42}"#, server: server
            )
            #expect(accepted.status == .accepted)
            let id = try #require(accepted.json["eventId"] as? Int)
            try await server.asyncDispatcher.runDue(now: Date().timeIntervalSince1970 + 1)
            // Usage: the event received (for the caller that sent it), and its one attempt billed as a request (the
            // platform's own work: the caller is not carried with the event).
            let exposition = try await client.execute(uri: "/metrics", method: .get).text
            #expect(
                exposition.contains(#"plumb_usage_async_events_total{Function="probe.fail",User="admin-token"} 1"#),
                "\(exposition)")
            #expect(exposition.contains(#"plumb_usage_requests_total{Function="probe.fail"} 1"#))
            let events = try await client.admin("/api/v1/functions/probe.fail/events?status=failed", server: server)
            let failed = try #require((events.json["events"] as? [[String: Any]])?.first)
            #expect(failed["id"] as? Int == id)
            #expect((failed["lastError"] as? String)?.contains("function error after 1 attempt") == true)
            let delivery = try #require(try await server.outbox.deliveries(topic: "dead-letters").first)
            let message = try #require(try await server.outbox.message(id: delivery.messageID))
            #expect(message.message.contains(#""payload":"{\"order\": 42}""#))
            #expect(message.message.contains("probe.fail"))
            #expect(
                try await client.admin(
                    "/api/v1/functions/probe.fail/invoke?type=Later", method: .post, body: "{}", server: server
                ).status == .badRequest)
        }
    }

    @Test("queued events survive a SIGKILL and all run after the restart")
    func sigkillLosesNothing() async throws {
        let root = TemporaryDirectory("plumb-async")
        defer { root.remove() }
        let first = try ServerProcess(dataDirectory: root.path + "/data")
        try await first.waitReady()
        let token = first.token
        // Reserved concurrency 0 throttles every attempt, so the events stay queued (retried with backoff).
        let (reserve, _) = try await HTTP.request(
            "PUT", first.baseURL + "/api/v1/functions/sentiment.classify/concurrency",
            body: Array(#"{"reserved": 0}"#.utf8), token: token)
        #expect(reserve == 200)
        var accepted = 0
        for i in 0..<150 {
            let body = Array(#"{"text": "event \#(i) is great"}"#.utf8)
            let (status, _) = try await HTTP.request(
                "POST", first.baseURL + "/api/v1/functions/sentiment.classify/invoke?type=Event", body: body,
                token: token)
            if status == 202 { accepted += 1 }
        }
        try await Task.sleep(for: .milliseconds(1_500))
        let (_, pendingBody) = try await HTTP.request(
            "GET", first.baseURL + "/api/v1/functions/sentiment.classify/events?status=pending", token: token)
        let pending =
            ((try JSONSerialization.jsonObject(with: Data(pendingBody)) as? [String: Any])?["events"]
                as? [[String: Any]]) ?? []
        #expect(pending.count == 150, "all throttled and still queued")
        #expect(pending.allSatisfy { ($0["attempts"] as? Int ?? 0) >= 1 }, "each was tried and throttled")
        first.kill(signal: SIGKILL)
        #expect(accepted == 150)
        // The reservation lived in memory only: after the restart the function runs again.
        let second = try ServerProcess(dataDirectory: root.path + "/data")
        defer { second.kill(signal: SIGKILL) }
        try await second.waitReady()
        var succeeded = 0
        for _ in 0..<150 {
            let (_, body) = try await HTTP.request(
                "GET", second.baseURL + "/api/v1/functions/sentiment.classify/events?status=succeeded", token: token)
            succeeded =
                ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [Any])?.count
                ?? 0
            if succeeded == accepted { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        print(
            "async: \(accepted) accepted and \(pending.count) still queued at the SIGKILL, \(succeeded) succeeded after the restart"
        )
        #expect(succeeded == accepted)
    }

    @Test("a topic subscription with protocol function queues an async event (SNS → Lambda)")
    func topicToFunction() async throws {
        let root = TemporaryDirectory("plumb-fanout")
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.path + "/alerts", withIntermediateDirectories: true)
        try
            "topics:\n  - name: fanout\n    subscriptions:\n      - {protocol: function, endpoint: sentiment.classify}\n"
            .write(toFile: root.path + "/alerts/t.yaml", atomically: true, encoding: .utf8)
        try "alerts: \(root.path)/alerts\n".write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let (status, _) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/topics/fanout/publish",
            body: Array(#"{"message": "hello function"}"#.utf8), token: server.token)
        #expect(status == 200)
        var events: [[String: Any]] = []
        for _ in 0..<50 {
            let (_, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/functions/sentiment.classify/events", token: server.token)
            events =
                ((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [[String: Any]])
                ?? []
            if !events.isEmpty && events.allSatisfy({ ($0["attempts"] as? Int ?? 0) >= 1 }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(events.count == 1, "the notification became one async event of the function")
        #expect((events.first?["attempts"] as? Int ?? 0) >= 1, "and the function was invoked")

        // A subscription to a function this server does not host is refused at load.
        try "topics:\n  - name: bad\n    subscriptions:\n      - {protocol: function, endpoint: nope.nothing}\n"
            .write(toFile: root.path + "/alerts/u.yaml", atomically: true, encoding: .utf8)
        let (reload, body) = try await HTTP.request(
            "POST", server.baseURL + "/api/v1/alarms/reload", token: server.token)
        #expect(reload == 400)
        #expect(String(decoding: body, as: UTF8.self).contains("nope.nothing"))
    }
}
