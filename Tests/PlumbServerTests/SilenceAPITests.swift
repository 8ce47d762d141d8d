import Foundation
import HummingbirdTesting
import PlumbServer
import PlumbServerTesting
import PlumbTesting
import Testing

/// The silences API in process (router-level): create, list, show on the alarm, hold, expire; and what it refuses.
@Suite struct SilenceAPITests {
    static func message(_ response: TestResponse) -> String {
        ((response.json["error"] as? [String: Any])?["message"] as? String) ?? ""
    }

    @Test func silencesAreCreatedShownOnTheAlarmHoldItsActionsAndExpire() async throws {
        try await AlarmAPITests.withServer { server, client in
            for (body, field) in [
                (#"{"duration": "2h", "comment": "c"}"#, "alarm"),
                (#"{"alarm": "file-alarm", "match": "file-*", "duration": "2h", "comment": "c"}"#, "match"),
                (#"{"alarm": "file-alarm", "duration": "soon", "comment": "c"}"#, "duration"),
                (#"{"alarm": "file-alarm", "duration": "400d", "comment": "c"}"#, "duration"),
                (#"{"alarm": "file-alarm", "duration": "2h", "comment": ""}"#, "comment"),
                (#"{"alarm": "file-alarm", "duration": "2h"}"#, "comment"),
                (#"{"alarm": "file-alarm\u0000", "duration": "2h", "comment": "c"}"#, "alarm"),
            ] {
                let refused = try await client.admin("/api/v1/silences", method: .post, body: body, server: server)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(Self.message(refused).contains(field), "\(body): \(Self.message(refused))")
            }
            #expect(
                (try await client.admin("/api/v1/silences", server: server).json["silences"] as? [Any])?.isEmpty
                    == true, "nothing stored")

            let created = try await client.admin(
                "/api/v1/silences", method: .post,
                body: #"{"match": "file-*", "duration": "2h", "comment": "disk swap"}"#, server: server)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"] as? String)
            #expect(created.json["match"] as? String == "file-*" && created.json["alarm"] == nil)
            #expect(created.json["createdBy"] as? String == "admin" && created.json["state"] as? String == "active")
            let starts = try #require(ISO8601DateFormatter().date(from: created.json["startsAt"] as? String ?? ""))
            let ends = try #require(ISO8601DateFormatter().date(from: created.json["endsAt"] as? String ?? ""))
            #expect(ends.timeIntervalSince(starts) == 7_200)

            // The alarm shows it, and a transition's notification is held.
            let alarm = try await client.admin("/api/v1/alarms/file-alarm", server: server)
            let silence = try #require(alarm.json["silence"] as? [String: Any])
            #expect(
                silence["id"] as? String == id && silence["comment"] as? String == "disk swap"
                    && silence["createdBy"] as? String == "admin")
            let listed =
                try await client.admin("/api/v1/alarms", server: server).json["alarms"] as? [[String: Any]] ?? []
            #expect(listed.first { $0["name"] as? String == "file-alarm" }?["silence"] != nil)
            let set = try await client.admin(
                "/api/v1/alarms/file-alarm/state", method: .post, body: #"{"state": "ALARM", "reason": "pager test"}"#,
                server: server)
            #expect(set.status == .ok)
            let history =
                try await client.admin("/api/v1/alarms/file-alarm/history?type=Action", server: server).json["history"]
                as? [[String: Any]] ?? []
            #expect(history.first?["summary"] as? String == "Notification held by silence \(id)", "\(history)")
            #expect(
                !history.contains { ($0["summary"] as? String)?.hasPrefix("Successfully executed") == true },
                "nothing was published")

            let matching =
                try await client.admin("/api/v1/silences?alarm=file-alarm&state=active", server: server).json[
                    "silences"] as? [[String: Any]] ?? []
            #expect(matching.map { $0["id"] as? String } == [id])
            #expect(
                (try await client.admin("/api/v1/silences?alarm=other", server: server).json["silences"] as? [Any])?
                    .isEmpty == true)
            #expect(try await client.admin("/api/v1/silences?state=asleep", server: server).status == .badRequest)

            // Expired: listed as such, no longer on the alarm; expiring again is a conflict, an unknown id not found.
            let expired = try await client.admin("/api/v1/silences/\(id)", method: .delete, server: server)
            #expect(
                expired.status == .ok && expired.json["state"] as? String == "expired"
                    && expired.json["expiredBy"] as? String == "admin")
            #expect(
                try await client.admin("/api/v1/silences/\(id)", method: .delete, server: server).status == .conflict)
            #expect(
                try await client.admin(
                    "/api/v1/silences/00000000-0000-0000-0000-000000000000", method: .delete, server: server
                ).status == .notFound)
            let all =
                try await client.admin("/api/v1/silences?state=expired", server: server).json["silences"]
                as? [[String: Any]] ?? []
            #expect(all.map { $0["id"] as? String } == [id])
            #expect(try await client.admin("/api/v1/alarms/file-alarm", server: server).json["silence"] == nil)
            // file-alarm notifies on ALARM only: back to OK, then ALARM again, which now runs its action.
            for state in ["OK", "ALARM"] {
                let set = try await client.admin(
                    "/api/v1/alarms/file-alarm/state", method: .post,
                    body: #"{"state": "\#(state)", "reason": "after"}"#, server: server)
                #expect(set.status == .ok)
            }
            let after =
                try await client.admin("/api/v1/alarms/file-alarm/history?type=Action", server: server).json["history"]
                as? [[String: Any]] ?? []
            #expect(
                after.map { $0["summary"] as? String } == [
                    "Successfully executed action ops", "Notification held by silence \(id)",
                ])
        }
    }
}
