/// `GET /api/v1/topics/{topic}/subscriptions`: the topic's subscriptions.
public struct SubscriptionList: Codable, Sendable, Equatable {
    public var subscriptions: [SubscriptionDescription]

    public init(subscriptions: [SubscriptionDescription]) { self.subscriptions = subscriptions }
}
