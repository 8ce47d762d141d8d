import Foundation
import Hummingbird
import PlumbAPI
import PlumbNotify

/// Topics, subscriptions, publishing and the delivery log; plus the public confirmation link. A controller: the
/// handlers are in extensions by concept (`+Topics`, `+Subscriptions`, `+Deliveries`), bound here.
struct TopicRoutes: Sendable {
    let outbox: any NotificationStoring
    let publicURL: String
    let clock: @Sendable () -> Int64
    /// Refuses a `function` subscription the caller could not invoke itself (a topic is another way in): the
    /// function's name and the caller.
    var authorizeSubscriber: @Sendable (String, Caller) throws -> Void = { _, _ in }

    func register(api: RouterGroup<PlumbRequestContext>, public router: Router<PlumbRequestContext>) {
        api.get("topics", use: listTopics)
        api.post("topics", use: createTopic)
        api.get("topics/:topic", use: getTopic)
        api.delete("topics/:topic", use: deleteTopic)
        api.put("topics/:topic/delivery-policy", use: setTopicDeliveryPolicy)
        api.get("topics/:topic/subscriptions", use: listSubscriptions)
        api.post("topics/:topic/subscriptions", use: subscribe)
        api.delete("subscriptions/:id", use: unsubscribe)
        api.put("subscriptions/:id/delivery-policy", use: setSubscriptionDeliveryPolicy)
        api.post("topics/:topic/publish", use: publish)
        api.get("deliveries", use: listDeliveries)
        api.post("deliveries/:id/retry", use: retryDelivery)
        // The link sent to a new endpoint; the token is the credential, so no admin token is needed.
        router.get("subscriptions/confirm", use: confirm)
    }

    /// A topic with its subscription counts.
    func describe(_ topic: Outbox.Topic) async throws -> TopicDescription {
        let subscriptions = try await outbox.subscriptions(topic: topic.name)
        return TopicDescription(
            name: topic.name, source: topic.source, deliveryPolicy: topic.deliveryPolicy.map(DeliveryPolicyBody.init),
            subscriptions: subscriptions.count,
            confirmedSubscriptions: subscriptions.filter { $0.status == "Confirmed" }.count,
            createdAt: TimeParsing.format(topic.createdAt))
    }
}
