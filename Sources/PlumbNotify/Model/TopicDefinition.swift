import Foundation

/// A topic as declared in an alert file or through the API.
public struct TopicDefinition: Sendable, Equatable, Codable {
    public var name: String
    /// Applies to every subscription of the topic that has no policy of its own.
    public var deliveryPolicy: DeliveryPolicy?
    public var subscriptions: [SubscriptionDefinition]

    public init(name: String, deliveryPolicy: DeliveryPolicy? = nil, subscriptions: [SubscriptionDefinition] = []) {
        self.name = name
        self.deliveryPolicy = deliveryPolicy
        self.subscriptions = subscriptions
    }

    /// SNS topic names: 1–256 characters of letters, digits, `-` and `_`.
    public static func validateName(_ name: String) -> String? {
        guard !name.isEmpty, name.count <= 256 else { return "a topic name has 1 to 256 characters" }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return "a topic name may hold only letters, digits, '-' and '_'"
        }
        return nil
    }
}
