import Foundation
import PlumbAPI
import PlumbNotify

/// SetTopicAttributes, SetSubscriptionAttributes and DeleteTopic: the delivery policies SNS lets a caller change
/// after the fact, and the topic's end.
extension SNSService {
    /// `DeliveryPolicy` (SNS's topic form, `{"http": {"defaultHealthyRetryPolicy": …}}`; empty: the defaults) and
    /// `DisplayName` (taken, as at CreateTopic, and not kept: nothing here shows it).
    func setTopicAttributes(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name = try topic(input, "TopicArn")
        try caller.authorize("topics:SetTopicAttributes", "topic/\(name)")
        let (attribute, value) = try attribute(input)
        switch attribute {
        case "DeliveryPolicy":
            try await outbox.setDeliveryPolicy(topic: name, value.isEmpty ? nil : try Self.topicDeliveryPolicy(value))
        case "DisplayName":
            guard value.count <= 100 else { throw Self.invalid("DisplayName holds at most 100 characters") }
            guard try await outbox.topic(name) != nil else { throw NotifyError.topicNotFound(name) }
        default:
            throw Self.invalid("the topic attribute \(attribute) is not served here (DeliveryPolicy, DisplayName)")
        }
        return [:]
    }

    /// `DeliveryPolicy` (empty: the topic's) and `RawMessageDelivery` `false` (the only delivery served).
    func setSubscriptionAttributes(
        _ input: [String: JSONValue], caller: AWSCaller
    ) async throws -> [String: JSONValue] {
        let subscription = try await subscription(input)
        try caller.authorize("topics:SetSubscriptionAttributes", "subscription/\(subscription.id)")
        let (attribute, value) = try attribute(input)
        switch (attribute, value) {
        case ("DeliveryPolicy", _):
            guard subscription.definition.protocol == .webhook || subscription.definition.protocol == .email else {
                throw Self.invalid("DeliveryPolicy applies to http, https and email subscriptions")
            }
            try await outbox.setDeliveryPolicy(
                subscription: subscription.id, value.isEmpty ? nil : try Self.deliveryPolicy(value))
        case ("RawMessageDelivery", "false"):
            break
        default:
            throw Self.invalid(
                "the subscription attribute \(attribute)=\(value.prefix(40)) is not served here (DeliveryPolicy, RawMessageDelivery=false)"
            )
        }
        return [:]
    }

    /// Deletes the topic and its subscriptions. As SNS, a topic that does not exist is no error.
    func deleteTopic(_ input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue] {
        let name = try topic(input, "TopicArn")
        try caller.authorize("topics:DeleteTopic", "topic/\(name)")
        do { try await outbox.deleteTopic(name) } catch let error as NotifyError where error.status == 404 {}
        return [:]
    }

    /// `AttributeName` and `AttributeValue` (absent: empty).
    func attribute(_ input: [String: JSONValue]) throws -> (name: String, value: String) {
        guard let name = input["AttributeName"]?.string, !name.isEmpty else {
            throw Self.invalid("AttributeName is required")
        }
        let value = input["AttributeValue"]?.string ?? ""
        guard value.utf8.count <= 4_096 else { throw Self.invalid("AttributeValue is over 4096 bytes") }
        return (name, value)
    }
}
