import Foundation
import HummingbirdTesting
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The alarm and topic API in process (router-level).
@Suite struct AlarmAPITests {
    static func withServer(_ body: @Sendable (PlumbServer, any TestClientProtocol) async throws -> Void) async throws {
        let alerts = TemporaryDirectory()
        defer { alerts.remove() }
        try """
        topics:
          - name: ops
        alarms:
          - {name: file-alarm, namespace: N, metric: M, statistic: Sum, period: 60, evaluation_periods: 1, comparison: GreaterThanThreshold, threshold: 0, alarm_actions: [ops]}
        """.write(toFile: alerts.path + "/a.yaml", atomically: true, encoding: .utf8)
        let configure: (inout ServerConfig) -> Void = { $0.alerts = alerts.path }
        try await withTestServer(configure: configure) { server, client in
            try await body(server, client)
        }
    }

    @Test func alarmsCanBeCreatedDescribedSetAndDeleted() async throws {
        try await Self.withServer { server, client in
            let unauthenticated = try await client.execute(uri: "/api/v1/alarms", method: .get, headers: [:], body: nil)
            #expect(unauthenticated.status == .unauthorized)

            let bad = try await client.admin(
                "/api/v1/alarms/api-alarm", method: .put, body: #"{"namespace": "N", "metric": "M", "period": 45}"#,
                server: server)
            #expect(bad.status == .badRequest)
            let message = ((bad.json["error"] as? [String: Any])?["message"] as? String) ?? ""
            for fragment in [
                "statistic: is required", "period: 45 must be 10, 30", "comparison: is required",
                "threshold: is required",
            ] {
                #expect(message.contains(fragment), "\(message)")
            }
            let unknownTopic = try await client.admin(
                "/api/v1/alarms/api-alarm", method: .put,
                body:
                    #"{"namespace": "N", "metric": "M", "statistic": "p99", "period": 60, "evaluation_periods": 3, "comparison": "GreaterThanThreshold", "threshold": 5, "alarm_actions": ["nope"]}"#,
                server: server)
            #expect(unknownTopic.status == .badRequest)

            let created = try await client.admin(
                "/api/v1/alarms/api-alarm", method: .put,
                body:
                    #"{"namespace": "N", "metric": "M", "dimensions": {"Host": "a"}, "statistic": "p99", "period": 60, "evaluation_periods": 3, "datapoints_to_alarm": 2, "comparison": "GreaterThanThreshold", "threshold": 5, "alarm_actions": ["ops"]}"#,
                server: server)
            #expect(created.status == .created)
            #expect(created.json["state"] as? String == "INSUFFICIENT_DATA")
            #expect(created.json["statistic"] as? String == "p99")
            #expect(created.json["source"] as? String == "api")

            let composite = try await client.admin(
                "/api/v1/alarms/both", method: .put,
                body: #"{"rule": "ALARM(\"api-alarm\") AND ALARM(\"file-alarm\")"}"#, server: server)
            #expect(composite.status == .created)
            let cycle = try await client.admin(
                "/api/v1/alarms/api-alarm", method: .put, body: #"{"rule": "ALARM(\"both\")"}"#, server: server)
            #expect(cycle.status == .badRequest)
            #expect((((cycle.json["error"] as? [String: Any])?["message"] as? String) ?? "").contains("cycle: "))

            let fileEdit = try await client.admin(
                "/api/v1/alarms/file-alarm", method: .put, body: #"{"rule": "TRUE"}"#, server: server)
            #expect(fileEdit.status == .conflict)
            #expect(
                try await client.admin("/api/v1/alarms/file-alarm", method: .delete, server: server).status == .conflict
            )
            #expect(
                try await client.admin("/api/v1/alarms/api-alarm", method: .delete, server: server).status
                    == .badRequest, "used by 'both'")

            let set = try await client.admin(
                "/api/v1/alarms/file-alarm/state", method: .post,
                body: #"{"state": "ALARM", "reason": "testing the pager"}"#, server: server)
            #expect(set.status == .ok)
            #expect(set.json["state"] as? String == "ALARM")
            #expect(
                try await client.admin(
                    "/api/v1/alarms/file-alarm/state", method: .post, body: #"{"state": "RED", "reason": "x"}"#,
                    server: server
                ).status == .badRequest)

            let history = try await client.admin("/api/v1/alarms/file-alarm/history", server: server)
            let items = history.json["history"] as? [[String: Any]] ?? []
            #expect(items.first?["summary"] as? String == "Successfully executed action ops")
            #expect(items.contains { $0["summary"] as? String == "Alarm updated from INSUFFICIENT_DATA to ALARM" })

            // The action published to the topic: one message with the alarm's JSON.
            let list = try await client.admin("/api/v1/alarms?state=ALARM", server: server)
            #expect((list.json["alarms"] as? [[String: Any]])?.map { $0["name"] as? String } == ["file-alarm"])
            #expect(try await client.admin("/api/v1/alarms/both", method: .delete, server: server).status == .noContent)
            #expect(
                try await client.admin("/api/v1/alarms/api-alarm", method: .delete, server: server).status == .noContent
            )
            #expect(try await client.admin("/api/v1/alarms/api-alarm", server: server).status == .notFound)
        }
    }

    @Test func subscriptionsNeedConfirmationAndPublishingIsDurable() async throws {
        try await Self.withServer { server, client in
            let topic = try await client.admin(
                "/api/v1/topics", method: .post,
                body:
                    #"{"name": "team", "delivery_policy": {"num_retries": 5, "min_delay": 1, "max_delay": 10, "backoff": "exponential"}}"#,
                server: server)
            #expect(topic.status == .created)
            #expect(
                try await client.admin("/api/v1/topics", method: .post, body: #"{"name": "bad name"}"#, server: server)
                    .status == .badRequest)
            let sub = try await client.admin(
                "/api/v1/topics/team/subscriptions", method: .post,
                body: #"{"protocol": "webhook", "endpoint": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"}"#,
                server: server)
            #expect(sub.status == .created)
            #expect(sub.json["status"] as? String == "PendingConfirmation")
            #expect(sub.json["signed"] as? Bool == true)
            #expect(sub.json["secret"] == nil)
            #expect(
                try await client.admin(
                    "/api/v1/topics/team/subscriptions", method: .post,
                    body: #"{"protocol": "webhook", "endpoint": "http://127.0.0.1:9/hook", "secret": "short"}"#,
                    server: server
                ).status == .badRequest)

            // Publishing before confirmation queues nothing for the pending endpoint (only its confirmation request).
            let published = try await client.admin(
                "/api/v1/topics/team/publish", method: .post, body: #"{"subject": "hi", "message": "hello"}"#,
                server: server)
            #expect(published.status == .ok)
            #expect((published.json["messageId"] as? String)?.count == 36)
            var deliveries = try await client.admin("/api/v1/deliveries?topic=team", server: server)
            #expect((deliveries.json["deliveries"] as? [[String: Any]])?.count == 1)

            let confirmation = try #require(try await server.outbox.deliveries(topic: "team").first)
            let token = try #require(try await server.outbox.message(id: confirmation.messageID)?.attributes["token"])
            #expect(
                try await client.execute(
                    uri: "/subscriptions/confirm?token=wrong", method: .get, headers: [:], body: nil
                ).status == .notFound)
            let confirmed = try await client.execute(
                uri: "/subscriptions/confirm?token=\(token)", method: .get, headers: [:], body: nil)
            #expect(confirmed.status == .ok)
            _ = try await client.admin(
                "/api/v1/topics/team/publish", method: .post, body: #"{"message": "after confirmation"}"#,
                server: server)
            deliveries = try await client.admin("/api/v1/deliveries?topic=team&status=pending", server: server)
            #expect((deliveries.json["deliveries"] as? [[String: Any]])?.count == 2)

            #expect(
                try await client.admin(
                    "/api/v1/topics/nope/publish", method: .post, body: #"{"message": "x"}"#, server: server
                ).status == .notFound)
            #expect(
                try await client.admin(
                    "/api/v1/topics/team/publish", method: .post, body: #"{"subject": "no message"}"#, server: server
                ).status == .badRequest)
            #expect(try await client.admin("/api/v1/deliveries?status=weird", server: server).status == .badRequest)
        }
    }

    @Test func reloadIsAllOrNothing() async throws {
        try await Self.withServer { server, client in
            let before = try await client.admin("/api/v1/alarms", server: server)
            #expect((before.json["alarms"] as? [Any])?.count == 1)
            try "alarms:\n  - {name: broken, period: 7}\n".write(
                toFile: server.config.alerts + "/b.yaml", atomically: true, encoding: .utf8)
            let reload = try await client.admin("/api/v1/alarms/reload", method: .post, server: server)
            #expect(reload.status == .badRequest)
            let errors = reload.json["errors"] as? [[String: Any]] ?? []
            #expect(
                errors.contains {
                    ($0["file"] as? String)?.hasSuffix("/b.yaml") == true && $0["line"] as? Int == 2
                        && $0["field"] as? String == "alarms[0].period"
                })
            #expect(try await client.admin("/api/v1/alarms/file-alarm", server: server).status == .ok)
            try FileManager.default.removeItem(atPath: server.config.alerts + "/b.yaml")
            try
                "alarms:\n  - {name: second, namespace: N, metric: M, statistic: Average, period: 60, evaluation_periods: 1, comparison: LessThanThreshold, threshold: 1}\n"
                .write(toFile: server.config.alerts + "/c.yaml", atomically: true, encoding: .utf8)
            let ok = try await client.admin("/api/v1/alarms/reload", method: .post, server: server)
            #expect(ok.status == .ok)
            #expect(ok.json["alarms"] as? Int == 2)
        }
    }
}
