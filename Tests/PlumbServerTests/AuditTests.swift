import Foundation
import HummingbirdTesting
import PlumbLogs
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// Every state-changing API call is audited: who (a token id, never the token), what, result.
@Suite struct AuditTests {
    @Test func stateChangesAreAuditedWithoutTheToken() async throws {
        try await withTestServer { server, client in
            _ = try await client.admin("/api/v1/topics", method: .post, body: #"{"name": "audited"}"#, server: server)
            _ = try await client.admin("/api/v1/alarms/x", method: .put, body: #"{"namespace": "N"}"#, server: server)
            _ = try await client.execute(
                uri: "/api/v1/alarms/x", method: .delete, headers: [.authorization: "Bearer wrong-token"], body: nil)
            _ = try await client.admin("/api/v1/alarms", server: server)  // a read: not audited
            _ = try await client.admin(
                "/api/v1/metrics", method: .post, body: #"{"namespace": "N", "data": [{"name": "m", "value": 1}]}"#,
                server: server)

            let page = try await server.logs.filter(LogQuery(group: "/plumb/audit", limit: 100))
            let events = page.events.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.message.utf8)) as? [String: Any]
            }
            #expect(events.count == 3, "\(page.events.map(\.message))")
            #expect(
                events.map { $0["action"] as? String } == [
                    "POST /api/v1/topics", "PUT /api/v1/alarms/{name}", "DELETE /api/v1/alarms/{name}",
                ])
            #expect(events.map { $0["result"] as? String } == ["success", "failed", "denied"])
            #expect(events.map { $0["status"] as? Int } == [201, 400, 401])
            #expect(events[0]["actor"] as? String == AuditMiddlewareID.of(server.token))
            #expect((events[2]["actor"] as? String)?.hasPrefix("unknown-token:") == true)
            #expect(events[1]["resource"] as? String == "/api/v1/alarms/x")
            for event in page.events {
                #expect(!event.message.contains(server.token))
                #expect(!event.message.contains("wrong-token"))
            }
        }
    }
}

/// The actor id the server derives from a token (mirrors AuditMiddleware.tokenID).
enum AuditMiddlewareID {
    static func of(_ token: String) -> String { PlumbServer.auditActor(for: token) }
}
