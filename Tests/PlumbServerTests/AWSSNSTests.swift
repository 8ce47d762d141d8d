import Foundation
import PlumbTesting
import Testing

/// SNS through real boto3 against a real `plumb serve`, received by an HTTP endpoint that verifies every message's
/// signature as AWS's validators do: topics and subscriptions made through boto3 are Plumb's own, subscriptions are
/// confirmed through SubscribeURL and through ConfirmSubscription, and a Publish arrives signed, in SNS's format.
@Suite("AWS API: SNS")
struct AWSSNSTests {
    @Test("boto3 makes topics and subscriptions; a verifying SNS receiver confirms and receives a Publish")
    func sns() async throws {
        try await AWSPeerRun.run("aws_sns.py", timeout: .seconds(120)) { server, result in
            let topic = "arn:aws:sns:us-east-1:000000000000:orders"
            #expect(result["topic_arn"] as? String == topic)
            #expect(result["create_again"] as? String == topic, "CreateTopic is idempotent")
            #expect((result["topics"] as? [String])?.contains(topic) == true)

            // The confirmation: SNS's fields and headers, a good signature (and a tampered copy's bad), confirmed by
            // visiting SubscribeURL.
            #expect(result["subscribe_auto"] as? String == "pending confirmation")
            let confirmation = try #require(result["confirmation"] as? [String: Any])
            #expect(confirmation["verified"] as? Bool == true)
            #expect(confirmation["tampered_verified"] as? Bool == false)
            #expect(confirmation["confirm_status"] as? Int == 200)
            #expect(
                confirmation["fields"] as? [String] == [
                    "Message", "MessageId", "Signature", "SignatureVersion", "SigningCertURL", "SubscribeURL",
                    "Timestamp",
                    "Token", "TopicArn", "Type",
                ])
            let confirmationHeaders = try #require(confirmation["headers"] as? [String: String])
            #expect(confirmationHeaders["x-amz-sns-message-type"] == "SubscriptionConfirmation")
            #expect(confirmationHeaders["x-amz-sns-topic-arn"] == topic)
            #expect(confirmationHeaders["content-type"] == "text/plain; charset=UTF-8")
            // The other confirmed through ConfirmSubscription with its token.
            #expect(result["manual_verified"] as? Bool == true)
            #expect((result["confirmed_arn"] as? String)?.hasPrefix(topic + ":") == true)
            #expect(result["email"] as? String == "pending confirmation")
            let subscriptions = try #require(result["subscriptions"] as? [[String]])
            #expect(
                subscriptions == [
                    ["email", "ops@example.com", "PendingConfirmation"], ["http", "RECEIVER/auto", "arn"],
                    ["http", "RECEIVER/manual", "arn"],
                ])
            let attributes = try #require(result["subscription_attributes"] as? [String: String])
            #expect(attributes["PendingConfirmation"] == "false")
            let policy = try #require(
                (result["delivery_policy"] as? [String: Any])?["healthyRetryPolicy"] as? [String: Any])
            #expect(policy["numRetries"] as? Int == 5)
            #expect(policy["backoffFunction"] as? String == "exponential")
            let topicAttributes = try #require(result["topic_attributes"] as? [String: String])
            #expect(topicAttributes["SubscriptionsConfirmed"] == "2")
            #expect(topicAttributes["SubscriptionsPending"] == "1")

            // The Publish: both HTTP subscribers received it, signed, with subject, attributes and SNS's headers.
            let notifications = try #require(result["notifications"] as? [[String: Any]])
            #expect(notifications.count == 2)
            for notification in notifications {
                #expect(notification["verified"] as? Bool == true)
                #expect(notification["tampered_verified"] as? Bool == false)
                #expect(notification["message"] as? String == "order 42 shipped")
                #expect(notification["subject"] as? String == "Order 42")
                #expect(notification["id_matches"] as? Bool == true)
                #expect(notification["topic"] as? String == topic)
                #expect(notification["signature_version"] as? String == "2")
                let messageAttributes = notification["attributes"] as? [String: [String: String]]
                #expect(messageAttributes?["priority"]?["Value"] == "high")
                let headers = notification["headers"] as? [String: String]
                #expect(headers?["x-amz-sns-message-type"] == "Notification")
                #expect(headers?["x-amz-sns-subscription-arn"]?.hasPrefix(topic + ":") == true)
            }
            #expect(result["structured_verified"] as? Bool == true)
            #expect(result["changed_policy"] as? Int == 2, "\(result)")
            #expect(result["cleared_policy"] as? Bool == false)
            let topicPolicy = result["topic_policy"] as? [String: Any]
            #expect(
                topicPolicy?["numRetries"] as? Int == 4 && topicPolicy?["backoffFunction"] as? String == "geometric")
            #expect(result["topic_effective"] as? Int == 4)
            let remaining = result["topics_after_delete"] as? [String] ?? []
            #expect(remaining.contains("orders") && !remaining.contains("doomed"), "\(remaining)")
            #expect(result["doomed_subscriptions"] as? [String] == [])
            #expect(result["delete_again"] as? Bool == true)
            #expect(result["after_unsubscribe"] as? Int == 2)

            let refused = try #require(result["refused"] as? [String: [String: Any]])
            func code(_ name: String) -> String? { refused[name]?["code"] as? String }
            #expect(code("publish_unknown_topic") == "NotFound")
            #expect(refused["publish_unknown_topic"]?["status"] as? Int == 404)
            for name in [
                "subscribe_sqs", "bad_topic_name", "binary_attribute", "no_default", "lambda_unknown", "bad_token",
                "filter_policy", "raw_delivery", "bad_topic_policy",
            ] {
                #expect(code(name) == "InvalidParameter", "\(name): \(refused[name] ?? [:])")
            }
            #expect(code("unsubscribe_unknown") == "NotFound")
            #expect(code("policy_unknown_topic") == "NotFound")
            #expect(code("bad_signature") == "SignatureDoesNotMatch")

            // Through Plumb's own API: the same topic and subscriptions, the webhooks in SNS's format.
            let (status, body) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/topics/orders/subscriptions", token: server.token)
            #expect(status == 200)
            let listed =
                (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["subscriptions"]
                as? [[String: Any]]
                ?? []
            #expect(listed.count == 2, "\(String(decoding: body, as: UTF8.self))")
            #expect(listed.filter { $0["format"] as? String == "sns" }.count == 1)
            // And the published message is in the outbox's deliveries, delivered.
            let (_, deliveries) = try await HTTP.request(
                "GET", server.baseURL + "/api/v1/deliveries?topic=orders", token: server.token)
            #expect(String(decoding: deliveries, as: UTF8.self).contains("delivered"))
        }
    }
}
