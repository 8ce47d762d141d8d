import Foundation
import Hummingbird
import NIOCore
import PlumbAPI
import PlumbHost
import PlumbKit

/// Invocation through the API, and the async events it queues.
extension FunctionRoutes {
    /// `type=RequestResponse` (default) answers with the function's response; `type=Event` queues the payload durably
    /// and answers 202 (Lambda's async invocation, retried by its rules). The payload is free-form: the bytes go to
    /// the function as they came, and its response comes back as it gave it.
    @Sendable func invoke(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let f = try function(context)
        try FunctionAccess.checkInvoke(f, caller: context.caller)
        let payload = try await request.collectBody(limit: 256 * 1_024)
        switch request.queryDictionary["type"] ?? "RequestResponse" {
        case "Event":
            let id = try await asyncQueue.enqueue(function: f.name, payload: payload, now: Date().timeIntervalSince1970)
            f.countAsyncEvent()
            return try Response.json(AsyncInvocation(eventId: id), status: .accepted)
        case "RequestResponse":
            let response = try await host.invoke(
                f,
                FunctionRequest(method: .post, path: "/", headers: ["content-type": "application/json"], body: payload))
            var headers = HTTPFields()
            headers[.contentType] = response.headers["content-type"] ?? "application/json"
            return Response(
                status: .init(code: response.status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
        default:
            throw APIError("type must be RequestResponse or Event")
        }
    }

    @Sendable func events(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let f = try function(context)
        let status = request.queryDictionary["status"]
        if let status, !["pending", "succeeded", "failed"].contains(status) {
            throw APIError("status must be pending, succeeded or failed")
        }
        let events = try await asyncQueue.events(status: status, limit: 1_000).filter { $0.function == f.name }
        return try Response.json(
            AsyncEventList(
                events: events.map {
                    AsyncEventDescription(
                        id: $0.id, status: $0.status, attempts: $0.attempts, receivedAt: $0.receivedAt,
                        nextAttemptAt: $0.status == "pending" ? $0.nextAttemptAt : nil, lastError: $0.lastError)
                }))
    }
}
