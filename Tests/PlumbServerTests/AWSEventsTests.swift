import Foundation
import PlumbTesting
import Testing

/// EventBridge through real boto3 and the real aws CLI against a real `plumb serve`: a scheduled rule with a Lambda
/// target fires the function with the target's Input, through the scheduler the plugins' own schedules use; the
/// plugins' schedules are listed as managed rules; refusals carry EventBridge's codes.
@Suite("AWS API: EventBridge")
struct AWSEventsTests {
    @Test("boto3 puts a rate(1 minute) rule with a Lambda target; it fires the function with its Input")
    func events() async throws {
        try await AWSPeerRun.run("aws_events.py", timeout: .seconds(120)) { server, result in
            #expect(result["rule_arn"] as? String == "arn:aws:events:us-east-1:000000000000:rule/every-minute")
            // Two of the three targets refused one by one (an unknown function, Input that is not JSON).
            let put = try #require(result["put_targets"] as? [String: Any])
            #expect(put["failed"] as? Int == 2)
            #expect(put["failed_ids"] as? [String] == ["missing", "not-json"])
            let targets = try #require(result["targets"] as? [[Any]])
            #expect(targets.count == 1)
            #expect(targets.first?.first as? String == "classify")
            let described = try #require(result["described"] as? [String: Any])
            #expect(described["State"] as? String == "ENABLED")
            #expect(described["ScheduleExpression"] as? String == "rate(1 minute)")
            #expect(result["disabled_state"] as? String == "DISABLED")
            #expect(result["targets_after_put_again"] as? Int == 1)

            // The plugins' own schedules, as managed rules with their function as target.
            let rules = try #require(result["rules"] as? [String: [String: Any]])
            #expect(rules["plumb.documents.nightly-cluster"]?["ScheduleExpression"] as? String == "cron(0 3 * * ? *)")
            #expect(rules["plumb.documents.nightly-cluster"]?["ManagedBy"] as? String == "plumb")
            #expect(rules["every-minute"]?["ManagedBy"] is NSNull)
            #expect((result["managed_targets"] as? [String])?.first?.contains(":function:") == true)

            let refused = try #require(result["refused"] as? [String: [String: Any]])
            func code(_ name: String) -> String? { refused[name]?["code"] as? String }
            for name in ["delete_with_targets", "event_pattern", "bad_rate", "bad_cron", "bad_name"] {
                #expect(code(name) == "ValidationException", "\(name): \(refused[name] ?? [:])")
            }
            #expect(code("unknown_rule") == "ResourceNotFoundException")
            #expect(code("targets_of_unknown") == "ResourceNotFoundException")
            #expect(code("delete_managed") == "ManagedRuleException")
            #expect(code("bad_signature") == "InvalidSignatureException")
            #expect(result["removed_failed"] as? Int == 0)
            #expect(result["after_delete"] as? Bool == false)
            let cli = try #require(result["cli"] as? [String: Any])
            #expect(cli["status"] as? Int == 0, "\(cli["stderr"] ?? "")")
            #expect(cli["rules"] as? [String] == ["every-minute"])

            // The rule fires within its minute: the function ran with the target's Input (a sentiment of it), as an
            // async event Plumb's API shows.
            try await waitUntil("the rule to fire sentiment.classify", timeout: .seconds(90)) {
                let (_, body) = try await HTTP.request(
                    "GET", server.baseURL + "/api/v1/functions/sentiment.classify/events?status=succeeded",
                    token: server.token)
                let events =
                    (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["events"] as? [Any]
                return (events?.count ?? 0) >= 1
            }
        }
    }
}
