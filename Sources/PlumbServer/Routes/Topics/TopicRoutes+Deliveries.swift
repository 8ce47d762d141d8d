import Foundation
import Hummingbird
import PlumbAPI
import PlumbNotify

/// The delivery log: a page of deliveries (by topic and status), and a failed delivery sent again.
extension TopicRoutes {
    @Sendable func listDeliveries(_ request: Request, context: PlumbRequestContext) async throws -> Response {
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
        let list = try await outbox.deliveries(
            topic: query["topic"], status: query["status"], limit: limit, before: before)
        return try Response.json(
            DeliveryList(
                deliveries: list.map(DeliveryDescription.init), counts: try await outbox.deliveryCounts(),
                next: list.count == limit ? list.last?.id : nil))
    }

    @Sendable func retryDelivery(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        guard let id = Int64(context.parameters.get("id") ?? "") else { throw APIError("a delivery id is a number") }
        return try Response.json(DeliveryDescription(try await outbox.redrive(id, now: Date().timeIntervalSince1970)))
    }
}
