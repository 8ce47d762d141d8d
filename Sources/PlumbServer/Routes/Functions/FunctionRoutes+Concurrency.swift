import Foundation
import Hummingbird
import PlumbAPI
import PlumbHost

/// Reserved and provisioned concurrency, and what the autoscaler did.
extension FunctionRoutes {
    @Sendable func putConcurrency(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let f = try function(context)
        let body = try await request.collectBody(limit: 64 * 1_024)
        let change: ConcurrencyRequest
        do {
            change = try JSONDecoder().decode(ConcurrencyRequest.self, from: Data(body))
        } catch let error as any PlumbAPI.HTTPResponseError {
            throw error
        } catch {
            throw APIError(
                code: "MissingParameter",
                "body must be {\"reserved\": N, \"provisioned\": M} (either key may be left out; reserved null clears it)"
            )
        }
        // Raising both: reserve first so the provisioned instances fit; lowering both: unprovision first.
        let oldProvisioned = f.scaling.provisioned
        if let provisioned = change.provisioned, provisioned < oldProvisioned {
            try await host.setProvisionedConcurrency(f.name, provisioned)
        }
        if let reserved = change.reserved { try host.setReservedConcurrency(f.name, reserved) }
        if let provisioned = change.provisioned, provisioned >= oldProvisioned {
            try await host.setProvisionedConcurrency(f.name, provisioned)
        }
        return try Response.json(describe(f))
    }

    @Sendable func scaling(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let f = try function(context)
        let limit = try request.intParameter("limit", default: 100, range: 1...FunctionScaling.keptActivities)
        let d = f.scaling.describe(activityLimit: limit)
        let pool = f.pool.snapshot
        return try Response.json(
            ScalingDescription(
                function: f.name, instances: pool.instances, initializingInstances: pool.initializing,
                provisionedInstances: pool.provisionedInstances, concurrency: d.lastConcurrency,
                autoscaling: AutoscalingDescription(d),
                activities: d.activities.reversed().map {
                    ScalingActivity(
                        time: TimeParsing.format(Int64($0.time)), from: $0.from, to: $0.to, reason: $0.reason,
                        stableConcurrency: $0.stableDemand, panicConcurrency: $0.panicDemand, panicking: $0.panicking)
                }))
    }
}
