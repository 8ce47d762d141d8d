import PlumbAPI
import PlumbNotify

extension SubscriptionDescription {
    /// A subscription as the API shows it: whether it signs, never its secret.
    init(_ s: Outbox.Subscription) {
        self.init(
            id: s.id, topic: s.topic, protocol: s.definition.protocol.rawValue, endpoint: s.definition.endpoint,
            format: s.definition.format.rawValue, status: s.status, source: s.source,
            signed: s.definition.secret != nil || s.definition.secretEnv != nil,
            deliveryPolicy: s.definition.deliveryPolicy.map(DeliveryPolicyBody.init),
            createdAt: TimeParsing.format(s.createdAt))
    }
}
