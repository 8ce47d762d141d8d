import Hummingbird
import PlumbAPI
import PlumbNotify

/// Topics: list, create (idempotent), read, publish.
extension TopicRoutes {
    @Sendable func listTopics(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        var described: [TopicDescription] = []
        for topic in try await outbox.topics() { described.append(try await describe(topic)) }
        return try Response.json(TopicList(topics: described))
    }

    /// 201 for a new topic, 200 for one that existed.
    @Sendable func createTopic(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(TopicRequest.self, limit: 16 * 1_024)
        let existed = try await outbox.topic(body.name) != nil
        let topic = try await outbox.createTopic(
            body.name, deliveryPolicy: try body.deliveryPolicy?.policy(), now: clock())
        return try Response.json(try await describe(topic), status: existed ? .ok : .created)
    }

    @Sendable func getTopic(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(try await describe(try await topic(context)))
    }

    /// Deletes a topic made through the API and its subscriptions (alert-file topics: 409).
    @Sendable func deleteTopic(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await outbox.deleteTopic(context.parameters.get("topic") ?? "")
        return Response(status: .noContent)
    }

    /// Sets or clears the topic's delivery policy; answers the topic.
    @Sendable func setTopicDeliveryPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSON(DeliveryPolicyRequest.self, limit: 4 * 1_024)
        let name = context.parameters.get("topic") ?? ""
        try await outbox.setDeliveryPolicy(topic: name, try body.deliveryPolicy?.policy())
        return try Response.json(try await describe(try await topic(context)))
    }

    @Sendable func publish(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = context.parameters.get("topic") ?? ""
        let body = try await request.decodeJSON(PublishRequest.self)
        let id = try await outbox.publish(
            topic: name, subject: body.subject, message: body.message, attributes: body.attributes ?? [:], now: clock())
        return try Response.json(PublishResponse(messageId: id))
    }

    /// The topic of the path, or 404.
    func topic(_ context: PlumbRequestContext) async throws -> Outbox.Topic {
        let name = context.parameters.get("topic") ?? ""
        guard let topic = try await outbox.topic(name) else {
            throw NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'")
        }
        return topic
    }
}
