import Hummingbird
import NIOCore
import PlumbAPI
import PlumbNotify

/// Subscriptions: list, subscribe, unsubscribe, and the public confirmation link.
extension TopicRoutes {
    @Sendable func listSubscriptions(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let topic = try await topic(context)
        return try Response.json(
            SubscriptionList(
                subscriptions: try await outbox.subscriptions(topic: topic.name).map(SubscriptionDescription.init)))
    }

    @Sendable func subscribe(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = context.parameters.get("topic") ?? ""
        let body = try await request.decodeJSON(SubscriptionRequest.self, limit: 16 * 1_024)
        let definition = try definition(body, caller: context.caller)
        let subscription = try await outbox.subscribe(topic: name, definition, publicURL: publicURL, now: clock())
        return try Response.json(SubscriptionDescription(subscription), status: .created)
    }

    /// The request checked, field by field, into what the outbox keeps.
    func definition(_ body: SubscriptionRequest, caller: Caller) throws -> SubscriptionDefinition {
        guard let proto = SubscriptionProtocol(rawValue: body.protocol) else {
            throw APIError("protocol must be email, webhook, function or alertmanager")
        }
        var format = WebhookFormat.plumb
        if let f = body.format {
            guard let value = WebhookFormat(named: f) else {
                throw APIError("format must be \(WebhookFormat.accepted)")
            }
            guard proto == .webhook || value == .plumb else { throw APIError("format applies to webhooks only") }
            format = value
        }
        if let secret = body.secret, secret.count < 16 { throw APIError("secret must have at least 16 characters") }
        if proto == .function { try authorizeSubscriber(body.endpoint, caller) }
        return SubscriptionDefinition(
            protocol: proto, endpoint: body.endpoint, secret: body.secret, format: format,
            deliveryPolicy: try body.deliveryPolicy?.policy())
    }

    @Sendable func unsubscribe(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await outbox.unsubscribe(id: context.parameters.get("id") ?? "")
        return Response(status: .noContent)
    }

    /// Sets or clears a subscription's delivery policy; answers the subscription.
    @Sendable func setSubscriptionDeliveryPolicy(
        _ request: Request, context: PlumbRequestContext
    ) async throws -> Response {
        let body = try await request.decodeJSON(DeliveryPolicyRequest.self, limit: 4 * 1_024)
        let id = context.parameters.get("id") ?? ""
        try await outbox.setDeliveryPolicy(subscription: id, try body.deliveryPolicy?.policy())
        guard let subscription = try await outbox.subscription(id: id) else {
            throw NotifyError(status: 404, code: "NotFound", "no subscription '\(id)'")
        }
        return try Response.json(SubscriptionDescription(subscription))
    }

    /// `GET /subscriptions/confirm?token=…`: an HTML page for the person who followed the link.
    @Sendable func confirm(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        guard let token = request.queryDictionary["token"], !token.isEmpty else {
            throw APIError(code: "MissingParameter", "token is required")
        }
        let subscription = try await outbox.confirm(token: token, now: clock())
        let endpoint = EmailRenderer.escape(subscription.definition.endpoint)
        let topic = EmailRenderer.escape(subscription.topic)
        let html =
            "<!DOCTYPE html><html><body><p>Subscription confirmed: \(endpoint) now receives notifications from topic \(topic).</p></body></html>"
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
