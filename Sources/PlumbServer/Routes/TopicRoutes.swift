import PlumbAPI
import Foundation
import Hummingbird
import NIOCore
import PlumbMetrics
import PlumbNotify

/// Topics, subscriptions, publishing and the delivery log; plus the public confirmation link.
struct TopicRoutes {
    let outbox: Outbox
    let publicURL: String
    let clock: @Sendable () -> Int64
    /// Refuses a `function` subscription the caller could not invoke itself (a topic is another way in): the
    /// function's name and the caller.
    var authorizeSubscriber: @Sendable (String, Caller) throws -> Void = { _, _ in }

    struct PolicyBody: Codable {
        var numRetries: Int?
        var minDelay: Double?
        var maxDelay: Double?
        var backoff: String?

        enum CodingKeys: String, CodingKey {
            case numRetries = "num_retries", minDelay = "min_delay", maxDelay = "max_delay", backoff
        }

        func policy() throws -> DeliveryPolicy {
            var p = DeliveryPolicy()
            if let n = numRetries { p.numRetries = n }
            if let v = minDelay { p.minDelay = v; p.maxDelay = max(p.maxDelay, v) }
            if let v = maxDelay { p.maxDelay = v }
            if let b = backoff {
                guard let value = DeliveryPolicy.Backoff(rawValue: b) else { throw APIError("delivery_policy.backoff must be linear, arithmetic, geometric or exponential") }
                p.backoff = value
            }
            if let problem = p.validate() { throw APIError("delivery_policy: \(problem)") }
            return p
        }

        init(_ p: DeliveryPolicy) {
            numRetries = p.numRetries
            minDelay = p.minDelay
            maxDelay = p.maxDelay
            backoff = p.backoff.rawValue
        }
    }

    struct TopicRequest: Decodable {
        let name: String
        let deliveryPolicy: PolicyBody?
        enum CodingKeys: String, CodingKey { case name, deliveryPolicy = "delivery_policy" }
    }

    struct TopicDescription: Encodable {
        let name: String
        let source: String
        let deliveryPolicy: PolicyBody?
        let subscriptions: Int
        let confirmedSubscriptions: Int
        let createdAt: String
    }

    struct SubscriptionRequest: Decodable {
        let `protocol`: String
        let endpoint: String
        let secret: String?
        let format: String?
        let deliveryPolicy: PolicyBody?
        enum CodingKeys: String, CodingKey { case `protocol`, endpoint, secret, format, deliveryPolicy = "delivery_policy" }
    }

    struct SubscriptionDescription: Encodable {
        let id: String
        let topic: String
        let `protocol`: String
        let endpoint: String
        let format: String
        let status: String
        let source: String
        /// Whether webhook bodies are signed; the secret itself is never returned.
        let signed: Bool
        let deliveryPolicy: PolicyBody?
        let createdAt: String
    }

    struct PublishRequest: Decodable {
        let subject: String?
        let message: String
        let attributes: [String: String]?
    }

    struct DeliveryDescription: Encodable {
        let id: Int64
        let messageId: String
        let topic: String
        let subscriptionId: String
        let `protocol`: String
        let endpoint: String
        let status: String
        let attempts: Int
        let nextAttemptAt: String?
        let lastError: String?
        let createdAt: String
        let deliveredAt: String?
    }

    func describe(_ t: Outbox.Topic) throws -> TopicDescription {
        let subs = try outbox.subscriptions(topic: t.name)
        return TopicDescription(
            name: t.name, source: t.source, deliveryPolicy: t.deliveryPolicy.map(PolicyBody.init), subscriptions: subs.count,
            confirmedSubscriptions: subs.filter { $0.status == "Confirmed" }.count, createdAt: TimeParsing.format(t.createdAt))
    }

    static func describe(_ s: Outbox.Subscription) -> SubscriptionDescription {
        SubscriptionDescription(
            id: s.id, topic: s.topic, protocol: s.definition.protocol.rawValue, endpoint: s.definition.endpoint,
            format: s.definition.format.rawValue, status: s.status, source: s.source,
            signed: s.definition.secret != nil || s.definition.secretEnv != nil,
            deliveryPolicy: s.definition.deliveryPolicy.map(PolicyBody.init), createdAt: TimeParsing.format(s.createdAt))
    }

    static func describe(_ d: Outbox.Delivery) -> DeliveryDescription {
        DeliveryDescription(
            id: d.id, messageId: d.messageID, topic: d.topic, subscriptionId: d.subscriptionID, protocol: d.protocol.rawValue,
            endpoint: d.endpoint, status: d.status, attempts: d.attempts,
            nextAttemptAt: d.status == "pending" ? TimeParsing.format(Int64(d.nextAttemptAt.rounded(.up))) : nil,
            lastError: d.lastError, createdAt: TimeParsing.format(d.createdAt),
            deliveredAt: d.deliveredAt.map { TimeParsing.format(Int64($0)) })
    }

    func register(api: RouterGroup<PlumbRequestContext>, public router: Router<PlumbRequestContext>) {
        api.get("topics") { _, _ in
            struct R: Encodable { let topics: [TopicDescription] }
            return try Response.json(R(topics: try outbox.topics().map(describe)))
        }
        api.post("topics") { request, _ in
            let body = try await request.decodeJSON(TopicRequest.self, limit: 16 * 1_024)
            let existed = try outbox.topic(body.name) != nil
            let topic = try outbox.createTopic(body.name, deliveryPolicy: try body.deliveryPolicy?.policy(), now: clock())
            return try Response.json(try describe(topic), status: existed ? .ok : .created)
        }
        api.get("topics/:topic") { _, context in
            let name = context.parameters.get("topic") ?? ""
            guard let topic = try outbox.topic(name) else { throw NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'") }
            return try Response.json(try describe(topic))
        }
        api.get("topics/:topic/subscriptions") { _, context in
            let name = context.parameters.get("topic") ?? ""
            guard try outbox.topic(name) != nil else { throw NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'") }
            struct R: Encodable { let subscriptions: [SubscriptionDescription] }
            return try Response.json(R(subscriptions: try outbox.subscriptions(topic: name).map(Self.describe)))
        }
        api.post("topics/:topic/subscriptions") { request, context in
            let name = context.parameters.get("topic") ?? ""
            let body = try await request.decodeJSON(SubscriptionRequest.self, limit: 16 * 1_024)
            guard let proto = SubscriptionProtocol(rawValue: body.protocol) else {
                throw APIError("protocol must be email, webhook, function or alertmanager")
            }
            var format = WebhookFormat.plumb
            if let f = body.format {
                guard let value = WebhookFormat(named: f) else { throw APIError("format must be \(WebhookFormat.accepted)") }
                guard proto == .webhook || value == .plumb else { throw APIError("format applies to webhooks only") }
                format = value
            }
            if let secret = body.secret, secret.count < 16 { throw APIError("secret must have at least 16 characters") }
            if proto == .function { try authorizeSubscriber(body.endpoint, context.caller) }
            let definition = SubscriptionDefinition(
                protocol: proto, endpoint: body.endpoint, secret: body.secret, format: format,
                deliveryPolicy: try body.deliveryPolicy?.policy())
            let subscription = try outbox.subscribe(topic: name, definition, publicURL: publicURL, now: clock())
            return try Response.json(Self.describe(subscription), status: .created)
        }
        api.delete("subscriptions/:id") { _, context in
            try outbox.unsubscribe(id: context.parameters.get("id") ?? "")
            return Response(status: .noContent)
        }
        api.post("topics/:topic/publish") { request, context in
            let name = context.parameters.get("topic") ?? ""
            let body = try await request.decodeJSON(PublishRequest.self)
            let id = try outbox.publish(topic: name, subject: body.subject, message: body.message, attributes: body.attributes ?? [:], now: clock())
            return try Response.json(["messageId": id])
        }
        api.get("deliveries") { request, _ in
            let query = request.queryDictionary
            if let status = query["status"], !["pending", "delivered", "failed", "superseded"].contains(status) {
                throw APIError("status must be pending, delivered, failed or superseded")
            }
            let limit = try request.intParameter("limit", default: 100, range: 1...1_000)
            var before: Int64?
            if let text = query["before"] {
                guard let id = Int64(text) else { throw APIError("before must be a delivery id") }
                before = id
            }
            let list = try outbox.deliveries(topic: query["topic"], status: query["status"], limit: limit, before: before)
            struct R: Encodable {
                let deliveries: [DeliveryDescription]
                let counts: [String: Int]
                let next: Int64?
            }
            return try Response.json(R(
                deliveries: list.map(Self.describe), counts: try outbox.deliveryCounts(),
                next: list.count == limit ? list.last?.id : nil))
        }
        api.post("deliveries/:id/retry") { _, context in
            guard let id = Int64(context.parameters.get("id") ?? "") else { throw APIError("a delivery id is a number") }
            return try Response.json(Self.describe(try outbox.redrive(id, now: Date().timeIntervalSince1970)))
        }
        // The link sent to a new endpoint; the token is the credential, so no admin token is needed.
        router.get("subscriptions/confirm") { request, _ -> Response in
            guard let token = request.queryDictionary["token"], !token.isEmpty else { throw APIError(code: "MissingParameter", "token is required") }
            let subscription = try outbox.confirm(token: token, now: clock())
            let html = "<!DOCTYPE html><html><body><p>Subscription confirmed: \(EmailRenderer.escape(subscription.definition.endpoint)) now receives notifications from topic \(EmailRenderer.escape(subscription.topic)).</p></body></html>"
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }
}
