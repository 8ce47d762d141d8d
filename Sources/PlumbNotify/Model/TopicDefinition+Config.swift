import PlumbAPI

extension TopicDefinition {
    static let configFields: Set<String> = ["name", "subscriptions", "delivery_policy"]
    static let subscriptionFields: Set<String> = ["protocol", "endpoint", "secret_env", "format", "delivery_policy"]

    /// A topic from its alert-file mapping (`topics:` items) with its subscriptions; nil when it does not check,
    /// with every problem recorded in the fields' sink.
    public static func parse(_ t: ConfigFields) -> TopicDefinition? {
        t.rejectUnknown(configFields)
        let before = t.errorCount
        guard let name = t.string("name", required: true) else { return nil }
        if let problem = validateName(name) { t.error("name", problem) }
        let policy = t.nested("delivery_policy").flatMap(DeliveryPolicy.parse)
        var subscriptions: [SubscriptionDefinition] = []
        for (node, path) in t.list("subscriptions") {
            guard let s = t.item(node, path: path), let subscription = parseSubscription(s) else { continue }
            subscriptions.append(subscription)
        }
        guard t.errorCount == before else { return nil }
        return TopicDefinition(name: name, deliveryPolicy: policy, subscriptions: subscriptions)
    }

    static func parseSubscription(_ s: ConfigFields) -> SubscriptionDefinition? {
        s.rejectUnknown(subscriptionFields)
        let before = s.errorCount
        let proto = s.enum("protocol", SubscriptionProtocol.self, required: true)
        let endpoint = s.string("endpoint", required: true)
        var format = WebhookFormat.plumb
        if let name = s.string("format") {
            if let value = WebhookFormat(named: name) {
                format = value
            } else {
                s.error("format", "'\(name)' must be \(WebhookFormat.accepted)")
            }
        }
        let secretEnv = s.string("secret_env")
        let policy = s.nested("delivery_policy").flatMap(DeliveryPolicy.parse)
        guard s.errorCount == before, let proto, let endpoint else { return nil }
        let subscription = SubscriptionDefinition(
            protocol: proto, endpoint: endpoint, secretEnv: secretEnv, format: format, deliveryPolicy: policy)
        if let (field, problem) = subscription.problem() {
            s.error(field == "secret" ? "secret_env" : field, problem)
            return nil
        }
        if proto != .webhook, s.node("format") != nil {
            s.error("format", "applies to webhooks only")
            return nil
        }
        return subscription
    }
}
