import Foundation
import PlumbAuth
import Testing

/// IAM evaluation against a table: wildcards in actions and resources, explicit deny, no policy, group plus user
/// policies. Each row names the policies the principal has, the request and the expected outcome (and the deciding
/// policy when there is one).
@Suite("PolicyTable")
struct PolicyTableTests {
    static func policy(_ name: String, _ json: String) -> Policy {
        try! Policy.parse(name: name, json: Array(json.utf8))
    }

    static let readOnly = policy(
        "read-only",
        #"{"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["*:Get*", "*:List*", "*:Describe*", "metrics:Query"], "Resource": "*"}]}"#
    )
    static let monitoring = policy(
        "monitoring-writer",
        #"{"Version": "2012-10-17", "Statement": [{"Sid": "Alarms", "Effect": "Allow", "Action": "alarms:*", "Resource": "alarm/*"}, {"Sid": "Topics", "Effect": "Allow", "Action": "topics:*", "Resource": "topic/*"}, {"Sid": "Metrics", "Effect": "Allow", "Action": "metrics:Put*", "Resource": "metric/*"}]}"#
    )
    static let training = policy(
        "training-writer",
        #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "functions:Invoke", "Resource": ["function/classifier.train", "function/classifier.upload-dataset", "function/classifier.promote"]}]}"#
    )
    static let backend = policy(
        "backend-writer",
        #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["functions:*"], "Resource": "function/*"}, {"Sid": "NoTraining", "Effect": "Deny", "Action": "functions:*", "Resource": "function/classifier.train"}]}"#
    )
    static let denySensors = policy(
        "no-sensor-alarms",
        #"{"Version": "2012-10-17", "Statement": {"Sid": "Freeze", "Effect": "Deny", "Action": "alarms:Put*", "Resource": "alarm/sensors-*"}}"#
    )
    static let oneChar = policy(
        "one-char",
        #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:Get?vents", "Resource": "log-group/app-?"}]}"#
    )
    static let admin = policy(
        "admin", #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#)

    typealias Row = (
        policies: [Policy], action: String, resource: String, outcome: PolicyEvaluator.Decision.Outcome, by: String?
    )

    static let rows: [Row] = [
        // No policy: everything is implicitly denied.
        ([], "alarms:GetAlarm", "alarm/x", .implicitDeny, nil),
        ([], "metrics:Query", "metric/*", .implicitDeny, nil),
        // Read-only: Get/List/Describe anywhere, nothing that writes.
        ([readOnly], "alarms:GetAlarm", "alarm/x", .allowed, "read-only"),
        ([readOnly], "alarms:ListAlarms", "alarm/*", .allowed, "read-only"),
        ([readOnly], "logs:GetEvents", "log-group//plumb/server", .allowed, "read-only"),
        ([readOnly], "functions:DescribeFunction", "function/sentiment.classify", .allowed, "read-only"),
        ([readOnly], "metrics:Query", "metric/*", .allowed, "read-only"),
        ([readOnly], "alarms:PutAlarm", "alarm/x", .implicitDeny, nil),
        ([readOnly], "alarms:DeleteAlarm", "alarm/x", .implicitDeny, nil),
        ([readOnly], "functions:Invoke", "function/sentiment.classify", .implicitDeny, nil),
        // Actions match case-insensitively, resources case-sensitively.
        ([readOnly], "ALARMS:getalarm", "alarm/x", .allowed, "read-only"),
        ([monitoring], "alarms:PutAlarm", "Alarm/x", .implicitDeny, nil),
        // Monitoring writes alarms, topics and metrics, nothing else.
        ([monitoring], "alarms:PutAlarm", "alarm/sensors-no-data", .allowed, "monitoring-writer"),
        ([monitoring], "alarms:SetAlarmState", "alarm/x", .allowed, "monitoring-writer"),
        ([monitoring], "topics:Publish", "topic/ops", .allowed, "monitoring-writer"),
        ([monitoring], "metrics:PutMetricData", "metric/App", .allowed, "monitoring-writer"),
        ([monitoring], "metrics:Query", "metric/App", .implicitDeny, nil),
        ([monitoring], "alarms:PutAlarm", "topic/ops", .implicitDeny, nil),
        ([monitoring], "functions:Invoke", "function/chat.message", .implicitDeny, nil),
        // Explicit deny beats any allow, in any order of policies.
        ([monitoring, denySensors], "alarms:PutAlarm", "alarm/sensors-no-data", .explicitDeny, "no-sensor-alarms"),
        ([denySensors, monitoring], "alarms:PutAlarm", "alarm/sensors-no-data", .explicitDeny, "no-sensor-alarms"),
        ([monitoring, denySensors], "alarms:PutAlarm", "alarm/chat-errors", .allowed, "monitoring-writer"),
        ([monitoring, denySensors], "alarms:DeleteAlarm", "alarm/sensors-no-data", .allowed, "monitoring-writer"),
        ([admin, denySensors], "alarms:PutAlarm", "alarm/sensors-x", .explicitDeny, "no-sensor-alarms"),
        ([denySensors], "alarms:PutAlarm", "alarm/chat", .implicitDeny, nil),
        ([denySensors], "alarms:GetAlarm", "alarm/sensors-x", .implicitDeny, nil),
        // Training: exactly three functions.
        ([training], "functions:Invoke", "function/classifier.train", .allowed, "training-writer"),
        ([training], "functions:Invoke", "function/classifier.promote", .allowed, "training-writer"),
        ([training], "functions:Invoke", "function/classifier.predict", .implicitDeny, nil),
        ([training], "functions:PutConcurrency", "function/classifier.train", .implicitDeny, nil),
        // Backend: every function but training, by its own explicit deny.
        ([backend], "functions:Invoke", "function/chat.message", .allowed, "backend-writer"),
        ([backend], "functions:PutConcurrency", "function/sentiment.classify", .allowed, "backend-writer"),
        ([backend], "functions:Invoke", "function/classifier.train", .explicitDeny, "backend-writer"),
        ([backend, training], "functions:Invoke", "function/classifier.train", .explicitDeny, "backend-writer"),
        ([backend], "alarms:PutAlarm", "alarm/x", .implicitDeny, nil),
        // Group plus user policies: the union of allows.
        ([readOnly, training], "functions:Invoke", "function/classifier.train", .allowed, "training-writer"),
        ([readOnly, training], "alarms:ListAlarms", "alarm/*", .allowed, "read-only"),
        ([readOnly, monitoring], "alarms:PutAlarm", "alarm/x", .allowed, "monitoring-writer"),
        ([readOnly, monitoring, training], "functions:Invoke", "function/chat.message", .implicitDeny, nil),
        // `?` is exactly one character.
        ([oneChar], "logs:GetEvents", "log-group/app-1", .allowed, "one-char"),
        ([oneChar], "logs:GetEvents", "log-group/app-12", .implicitDeny, nil),
        ([oneChar], "logs:GetEvents", "log-group/app-", .implicitDeny, nil),
        ([oneChar], "logs:GetxEvents", "log-group/app-1", .implicitDeny, nil),
        // Admin allows everything; `*` also matches an empty remainder.
        ([admin], "iam:PutPolicy", "policy/read-only", .allowed, "admin"),
        ([admin], "anything:AtAll", "", .allowed, "admin"),
    ]

    @Test("IAM evaluation", arguments: 0..<rows.count)
    func row(_ index: Int) {
        let r = Self.rows[index]
        let decision = PolicyEvaluator.evaluate(r.policies, action: r.action, resource: r.resource)
        #expect(
            decision.outcome == r.outcome,
            "row \(index): \(r.action) on \(r.resource) with \(r.policies.map(\.name)): \(decision.explanation)")
        #expect(
            decision.policy == r.by,
            "row \(index): decided by \(decision.policy ?? "nothing"), expected \(r.by ?? "nothing")")
    }

    @Test("the table has at least 40 cases")
    func size() { #expect(Self.rows.count >= 40) }

    @Test("the deciding statement is named with its Sid")
    func explanation() {
        let d = PolicyEvaluator.evaluate(
            [Self.monitoring, Self.denySensors], action: "alarms:PutAlarm", resource: "alarm/sensors-a")
        #expect(d.explanation == "denied by no-sensor-alarms statement 0 (Freeze) (explicit deny)")
        #expect(PolicyEvaluator.evaluate([], action: "a:B", resource: "x").explanation.contains("implicit deny"))
    }

    @Test("bad documents are refused naming the statement and field")
    func invalid() {
        for (json, fragment) in [
            ("[]", "must be a JSON object"),
            (#"{"Version": "2008-10-17", "Statement": []}"#, "Version"),
            (#"{"Statement": []}"#, "Statement is empty"),
            (#"{"Statement": [{"Effect": "Maybe", "Action": "a:B", "Resource": "*"}]}"#, "Statement[0].Effect"),
            (#"{"Statement": [{"Effect": "Allow", "Action": "PutAlarm", "Resource": "*"}]}"#, "service:Action"),
            (#"{"Statement": [{"Effect": "Allow", "Action": "a:B"}]}"#, "Statement[0].Resource"),
            (
                #"{"Statement": [{"Effect": "Allow", "Action": "a:B", "Resource": "*", "Condition": {}}]}"#,
                "unknown field 'Condition'"
            ),
        ] {
            do {
                _ = try Policy.parse(name: "p", json: Array(json.utf8))
                Issue.record("accepted \(json)")
            } catch let e as Policy.Invalid {
                #expect(e.message.contains(fragment), "\(e.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test(
        "wildcards",
        arguments: [
            ("*", "", true), ("*", "abc", true), ("a*", "a", true), ("a*c", "abbbc", true), ("a*c", "abbb", false),
            ("a?c", "abc", true), ("a?c", "ac", false), ("*-*", "a-b", true), ("*-*", "ab", false), ("**", "x", true),
            ("alarm/sensors-*", "alarm/sensors-", true), ("alarm/sensors-*", "alarm/sensor", false),
        ])
    func wildcard(_ c: (String, String, Bool)) {
        #expect(Wildcard.matches(c.0, c.1) == c.2, "\(c.0) ~ \(c.1)")
    }
}
