import Foundation
import PlumbTesting
import Testing

/// The platform API under policies: each seed group can do exactly its part and gets 403 for the rest; the
/// simulator names the deciding statement; refusals are audited; unknown tokens get 401.
@Suite("IAM", .serialized)
struct IAMTests {

    @Test("each seed group can do exactly its part of the API and gets 403 for the rest")
    func seedGroups() async throws {
        let root = TemporaryDirectory("plumb-iam")
        defer { root.remove() }
        let server = try ServerProcess(dataDirectory: root.path + "/data")
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let admin = server.token
        let base = server.baseURL + "/api/v1"
        let groups = ["frontend-writer", "backend-writer", "monitoring-writer", "training-writer", "read-only"]
        var tokens: [String: String] = [:]
        for group in groups {
            let user = "u-" + group
            var (status, body) = try await HTTP.request(
                "POST", base + "/iam/users", body: Array(#"{"name": "\#(user)"}"#.utf8), token: admin)
            #expect(status == 201, "\(String(decoding: body, as: UTF8.self))")
            (status, body) = try await HTTP.request("PUT", base + "/iam/groups/\(group)/members/\(user)", token: admin)
            #expect(status == 204, "\(String(decoding: body, as: UTF8.self))")
            (status, body) = try await HTTP.request("POST", base + "/iam/users/\(user)/tokens", token: admin)
            tokens[group] = try #require(json(body)["token"] as? String)
        }
        let alarm =
            #"{"namespace": "T", "metric": "m", "statistic": "Sum", "period": 60, "evaluation_periods": 1, "comparison": "GreaterThanThreshold", "threshold": 1}"#
        let query =
            #"{"queries": [{"id": "a", "metric": {"namespace": "Plumb/Functions", "name": "Invocations"}, "stat": "Sum"}]}"#
        let metric = #"{"namespace": "App", "metricData": [{"metricName": "x", "value": 1}]}"#
        // (method, path, body, the groups allowed besides the admin)
        let calls: [(String, String, String?, Set<String>)] = [
            ("GET", "/alarms", nil, Set(groups)),
            ("GET", "/metrics", nil, Set(groups)),
            ("POST", "/metrics/query", query, Set(groups)),
            ("GET", "/functions/chat.message", nil, Set(groups)),
            ("GET", "/logs", nil, Set(groups)),
            ("PUT", "/alarms/iam-test", alarm, ["monitoring-writer"]),
            ("POST", "/alarms/iam-test/state", #"{"state": "OK", "reason": "test"}"#, ["monitoring-writer"]),
            ("POST", "/topics", #"{"name": "iam-topic"}"#, ["monitoring-writer"]),
            ("POST", "/metrics", metric, ["monitoring-writer"]),
            ("PUT", "/functions/chat.message/concurrency", #"{"reserved": 5}"#, ["frontend-writer"]),
            ("PUT", "/functions/sentiment.classify/concurrency", #"{"reserved": 5}"#, ["frontend-writer"]),
            ("PUT", "/functions/sensors.ingest/concurrency", #"{"reserved": 5}"#, ["backend-writer"]),
            ("POST", "/functions/classifier.predict/invoke", #"{}"#, ["backend-writer"]),
            ("POST", "/functions/classifier.train/invoke", #"{}"#, ["training-writer"]),
            ("PUT", "/functions/classifier.train/concurrency", #"{"reserved": 2}"#, []),
            ("POST", "/iam/users", #"{"name": "x"}"#, []),
            ("PUT", "/iam/policies/x", #"{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#, []),
            ("GET", "/iam/users", nil, Set(groups)),
        ]
        var wrong: [String] = []
        for (method, path, body, allowed) in calls {
            for group in groups {
                let (status, answer) = try await HTTP.request(
                    method, base + path, body: body.map { Array($0.utf8) }, token: tokens[group])
                let permitted = status != 403 && status != 401
                if permitted != allowed.contains(group) {
                    wrong.append(
                        "\(group) \(method) \(path): \(status) \(String(decoding: answer.prefix(200), as: UTF8.self))")
                }
            }
            // The admin token is root.
            let (status, _) = try await HTTP.request(
                method, base + path, body: body.map { Array($0.utf8) }, token: admin)
            #expect(status != 403 && status != 401, "admin \(method) \(path): \(status)")
        }
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")

        // The simulator names the deciding statement.
        let (_, simulated) = try await HTTP.request(
            "POST", base + "/iam/simulate",
            body: Array(
                #"{"user": "u-backend-writer", "action": "functions:InvokeFunction", "resource": "function/classifier.train"}"#
                    .utf8),
            token: admin)
        let decision = json(simulated)
        #expect(
            decision["decision"] as? String == "explicit-deny" && decision["policy"] as? String == "backend-writer"
                && decision["sid"] as? String == "NotTraining", "\(decision)")

        // A user in no group has no policy: even reads are refused (and audited).
        #expect(
            try await HTTP.request("POST", base + "/iam/users", body: Array(#"{"name": "nobody"}"#.utf8), token: admin)
                .0 == 201)
        let nobody = try #require(
            json(try await HTTP.request("POST", base + "/iam/users/nobody/tokens", token: admin).1)["token"] as? String)
        let (refused, refusal) = try await HTTP.request(
            "POST", base + "/metrics/query", body: Array(query.utf8), token: nobody)
        #expect(
            refused == 403 && String(decoding: refusal, as: UTF8.self).contains("implicit deny"),
            "\(String(decoding: refusal, as: UTF8.self))")
        #expect(try await HTTP.request("GET", base + "/alarms", token: nobody).0 == 403)
        // Unknown tokens are 401; a disabled user's token stops working; refusals are in the audit trail.
        #expect(try await HTTP.request("GET", base + "/alarms", token: "plb_nope").0 == 401)
        #expect(try await HTTP.request("POST", base + "/iam/users/u-read-only/disable", token: admin).0 == 200)
        #expect(try await HTTP.request("GET", base + "/alarms", token: tokens["read-only"]).0 == 401)
        let (_, audit) = try await HTTP.request("GET", base + "/logs/%2Fplumb%2Faudit?limit=1000", token: admin)
        let events = (json(audit)["events"] as? [[String: Any]] ?? []).compactMap {
            json(Array(($0["message"] as? String ?? "").utf8))
        }
        #expect(
            events.contains {
                $0["actor"] as? String == "user:u-training-writer" && $0["result"] as? String == "denied"
                    && ($0["action"] as? String ?? "").hasPrefix("PUT /api/v1/alarms")
            })
        #expect(
            events.contains {
                $0["actor"] as? String == "user:u-monitoring-writer" && $0["result"] as? String == "denied"
                    && ($0["action"] as? String ?? "").hasPrefix("GET")
            } == false, "monitoring reads are allowed")
        #expect(
            events.contains {
                $0["actor"] as? String == "user:nobody" && $0["result"] as? String == "denied"
                    && ($0["action"] as? String ?? "") == "GET /api/v1/alarms"
            }, "a refused read is audited")
        // No token appears in any log group.
        for group in ["/plumb/audit", "/plumb/server"] {
            let (_, text) = try await HTTP.request(
                "GET", base + "/logs/\(group.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)?limit=5000",
                token: admin)
            let all = String(decoding: text, as: UTF8.self)
            for token in tokens.values { #expect(!all.contains(token), "a token leaked into \(group)") }
        }
    }
}
