import Foundation
import Hummingbird
import Metrics
import NIOCore
import PlumbHost
import PlumbKit

/// `GET /api/v1/functions`, `GET /api/v1/functions/{name}`, `PUT /api/v1/functions/{name}/concurrency`.
struct FunctionRoutes {
    let host: PluginHost
    let asyncQueue: AsyncEventQueue

    struct FunctionDescription: Encodable {
        let name: String
        let plugin: String
        let kind: String
        let trigger: String
        let reservedConcurrency: Int?
        let provisionedConcurrency: Int?
        let concurrentExecutions: Int
    }

    struct AccountDescription: Encodable {
        let concurrencyLimit: Int
        let unreservedConcurrencyLimit: Int
        let concurrentExecutions: Int
        let unreservedConcurrentExecutions: Int
    }

    func describe(_ f: HostedFunction) -> FunctionDescription {
        let trigger: String
        switch f.trigger {
        case .http(let method, let path): trigger = "\(method.rawValue) /apps/\(f.pluginName)\(path)"
        case .webSocket(let path, let route): trigger = "WebSocket /apps/\(f.pluginName)\(path) \(route)"
        case .schedule(let expression): trigger = expression
        case .event: trigger = "event"
        }
        return FunctionDescription(
            name: f.name, plugin: f.pluginName, kind: f.kind, trigger: trigger,
            reservedConcurrency: host.limiter.reserved(f.name), provisionedConcurrency: nil,
            concurrentExecutions: host.limiter.inFlight(f.name))
    }

    var account: AccountDescription {
        let s = host.limiter.snapshot
        return AccountDescription(
            concurrencyLimit: s.accountLimit, unreservedConcurrencyLimit: s.unreservedLimit,
            concurrentExecutions: s.inFlight, unreservedConcurrentExecutions: s.unreservedInFlight)
    }

    struct ListResponse: Encodable {
        let functions: [FunctionDescription]
        let account: AccountDescription
    }

    /// `{"reserved": N}` or `{"reserved": null}`; the key must be present.
    struct ConcurrencyRequest: Decodable {
        let reserved: Int?

        enum CodingKeys: String, CodingKey { case reserved }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard c.contains(.reserved) else { throw APIError(code: "MissingParameter", "'reserved' is required (a whole number, or null to clear)") }
            if try c.decodeNil(forKey: .reserved) {
                reserved = nil
            } else {
                guard let value = try? c.decode(Int.self, forKey: .reserved) else {
                    throw APIError("'reserved' must be a whole number or null")
                }
                reserved = value
            }
        }
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("functions") { _, _ in
            try Response.json(ListResponse(functions: host.functions.map(describe), account: account))
        }
        api.get("functions/:name") { _, context in
            try Response.json(describe(try function(context)))
        }
        // Invoke: `type=RequestResponse` (default) answers with the function's response; `type=Event` queues the
        // payload durably and answers 202 (Lambda's async invocation, retried by its rules).
        api.post("functions/:name/invoke") { request, context -> Response in
            let f = try function(context)
            let payload = try await request.collectBody(limit: 256 * 1_024)
            switch request.queryDictionary["type"] ?? "RequestResponse" {
            case "Event":
                let id = try asyncQueue.enqueue(function: f.name, payload: payload, now: Date().timeIntervalSince1970)
                Counter(label: "Plumb/Functions/AsyncEventsReceived", dimensions: [("Function", f.name)]).increment()
                return try Response.json(["eventId": id], status: .accepted)
            case "RequestResponse":
                let response = try await host.invoke(f, FunctionRequest(method: .post, path: "/", headers: ["content-type": "application/json"], body: payload))
                var headers = HTTPFields()
                headers[.contentType] = response.headers["content-type"] ?? "application/json"
                return Response(status: .init(code: response.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
            default:
                throw APIError("type must be RequestResponse or Event")
            }
        }
        api.get("functions/:name/events") { request, context in
            let f = try function(context)
            let status = request.queryDictionary["status"]
            if let status, !["pending", "succeeded", "failed"].contains(status) { throw APIError("status must be pending, succeeded or failed") }
            struct Item: Encodable {
                let id: Int64
                let status: String
                let attempts: Int
                let receivedAt: Double
                let nextAttemptAt: Double?
                let lastError: String?
            }
            struct R: Encodable { let events: [Item] }
            let events = try asyncQueue.events(status: status, limit: 1_000).filter { $0.function == f.name }
            return try Response.json(R(events: events.map {
                Item(id: $0.id, status: $0.status, attempts: $0.attempts, receivedAt: $0.receivedAt,
                     nextAttemptAt: $0.status == "pending" ? $0.nextAttemptAt : nil, lastError: $0.lastError)
            }))
        }
        api.put("functions/:name/concurrency") { request, context in
            let f = try function(context)
            let body = try await request.collectBody(limit: 64 * 1_024)
            let request: ConcurrencyRequest
            do {
                request = try JSONDecoder().decode(ConcurrencyRequest.self, from: Data(body))
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(code: "MissingParameter", "body must be {\"reserved\": N} (null clears it)")
            }
            let reserved = request.reserved
            try host.setReservedConcurrency(f.name, reserved)
            return try Response.json(describe(f))
        }
    }

    func function(_ context: PlumbRequestContext) throws -> HostedFunction {
        let name = context.parameters.get("name") ?? ""
        guard let f = host.function(named: name) else {
            throw APIError(status: 404, code: "ResourceNotFoundException", "no function named '\(name)'")
        }
        return f
    }
}
