import PlumbAPI
import Foundation
import Hummingbird
import Metrics
import NIOCore
import PlumbHost
import PlumbKit
import PlumbMetrics

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
        let provisionedConcurrency: Int
        let concurrentExecutions: Int
        let maxConcurrencyPerInstance: Int
        let instances: Int
        let provisionedInstances: Int
        let initializingInstances: Int
        let coldStarts: Int
        let reportLog: String
        let autoscaling: AutoscalingDescription
    }

    struct AutoscalingDescription: Encodable {
        let enabled: Bool
        let targetUtilization: Double
        let stableWindowSeconds: Double
        let panicWindowSeconds: Double
        let panicThreshold: Double
        let maxScaleUpPer10s: Int
        let maxScaleDownFactor: Double
        let scaleToZeroGraceSeconds: Double
        let minInstances: Int
        let maxInstances: Int
        let desiredInstances: Int?
        let panicking: Bool

        init(_ d: FunctionScaling.Description) {
            enabled = d.enabled
            targetUtilization = d.settings.targetUtilization
            stableWindowSeconds = d.settings.stableWindow
            panicWindowSeconds = d.settings.panicWindow
            panicThreshold = d.settings.panicThreshold
            maxScaleUpPer10s = d.settings.maxScaleUpPer10s
            maxScaleDownFactor = d.settings.maxScaleDownFactor
            scaleToZeroGraceSeconds = d.settings.scaleToZeroGrace
            minInstances = d.settings.minInstances
            maxInstances = d.settings.maxInstances
            desiredInstances = d.desiredInstances
            panicking = d.panicking
        }
    }

    struct ActivityDescription: Encodable {
        let time: String
        let from: Int
        let to: Int
        let reason: String
        let stableConcurrency: Double
        let panicConcurrency: Double
        let panicking: Bool
    }

    struct ScalingResponse: Encodable {
        let function: String
        let instances: Int
        let initializingInstances: Int
        let provisionedInstances: Int
        let concurrency: Double
        let autoscaling: AutoscalingDescription
        let activities: [ActivityDescription]
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
        let pool = f.pool.snapshot
        return FunctionDescription(
            name: f.name, plugin: f.pluginName, kind: f.kind, trigger: trigger,
            reservedConcurrency: host.limiter.reserved(f.name), provisionedConcurrency: f.scaling.provisioned,
            concurrentExecutions: host.limiter.inFlight(f.name), maxConcurrencyPerInstance: f.pool.perInstanceConcurrency,
            instances: pool.instances, provisionedInstances: pool.provisionedInstances, initializingInstances: pool.initializing,
            coldStarts: pool.coldStarts, reportLog: f.options.reportLog.rawValue,
            autoscaling: AutoscalingDescription(f.scaling.describe(activityLimit: 0)))
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

    /// `{"reserved": N}` (null clears it) and/or `{"provisioned": M}` (0 clears it); at least one key.
    struct ConcurrencyRequest: Decodable {
        /// Outer nil: not given; inner nil: clear.
        let reserved: Int??
        let provisioned: Int?

        enum CodingKeys: String, CodingKey { case reserved, provisioned }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard c.contains(.reserved) || c.contains(.provisioned) else {
                throw APIError(code: "MissingParameter", "give 'reserved' (a whole number, or null to clear) and/or 'provisioned' (a whole number, 0 to clear)")
            }
            if !c.contains(.reserved) {
                reserved = nil
            } else if try c.decodeNil(forKey: .reserved) {
                reserved = .some(nil)
            } else {
                guard let value = try? c.decode(Int.self, forKey: .reserved) else { throw APIError("'reserved' must be a whole number or null") }
                reserved = .some(value)
            }
            if c.contains(.provisioned) {
                guard let value = try? c.decode(Int.self, forKey: .provisioned), value >= 0 else {
                    throw APIError("'provisioned' must be a whole number, 0 or more")
                }
                provisioned = value
            } else {
                provisioned = nil
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
            try FunctionAccess.checkInvoke(f, caller: context.caller)
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
                throw APIError(code: "MissingParameter", "body must be {\"reserved\": N, \"provisioned\": M} (either key may be left out; reserved null clears it)")
            }
            // Raising both: reserve first so the provisioned instances fit; lowering both: unprovision first.
            let oldProvisioned = f.scaling.provisioned
            if let provisioned = request.provisioned, provisioned < oldProvisioned {
                try await host.setProvisionedConcurrency(f.name, provisioned)
            }
            if let reserved = request.reserved { try host.setReservedConcurrency(f.name, reserved) }
            if let provisioned = request.provisioned, provisioned >= oldProvisioned {
                try await host.setProvisionedConcurrency(f.name, provisioned)
            }
            return try Response.json(describe(f))
        }
        api.get("functions/:name/scaling") { request, context in
            let f = try function(context)
            let limit = try request.intParameter("limit", default: 100, range: 1...FunctionScaling.keptActivities)
            let d = f.scaling.describe(activityLimit: limit)
            let pool = f.pool.snapshot
            return try Response.json(ScalingResponse(
                function: f.name, instances: pool.instances, initializingInstances: pool.initializing,
                provisionedInstances: pool.provisionedInstances, concurrency: d.lastConcurrency,
                autoscaling: AutoscalingDescription(d),
                activities: d.activities.reversed().map {
                    ActivityDescription(
                        time: TimeParsing.format(Int64($0.time)), from: $0.from, to: $0.to, reason: $0.reason,
                        stableConcurrency: $0.stableDemand, panicConcurrency: $0.panicDemand, panicking: $0.panicking)
                }))
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
