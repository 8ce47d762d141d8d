import Hummingbird
import PlumbAPI
import PlumbAuth

/// Policies: list, read, put (the raw document, checked by PlumbAuth's `Policy.parse`), delete, and the simulator.
extension IAMRoutes {
    @Sendable func listPolicies(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(PolicyList(policies: try await iam.policyDescriptions()))
    }

    @Sendable func getPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = try Self.name("name", context)
        guard let policy = try await iam.policyDescriptions().first(where: { $0.name == name }) else {
            throw APIError(status: 404, code: "NoSuchEntity", "no policy '\(name)'")
        }
        return try Response.json(policy)
    }

    /// The body is the policy document itself, bytes as the caller wrote them (stored as given once it parses).
    @Sendable func putPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.putPolicy(
            try Self.name("name", context), document: try await request.collectBody(limit: 64 * 1_024))
        return Response(status: .noContent)
    }

    @Sendable func deletePolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.deletePolicy(try Self.name("name", context))
        return Response(status: .noContent)
    }

    /// The decision for a user, an action and a resource, with the deciding statement.
    @Sendable func simulate(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(SimulationRequest.self)
        let decision = PolicyEvaluator.evaluate(
            try await iam.policies(ofUser: body.user), action: body.action, resource: body.resource)
        return try Response.json(
            SimulationResult(
                decision: decision.outcome.rawValue, allowed: decision.allowed, explanation: decision.explanation,
                policy: decision.policy, statement: decision.statement, sid: decision.sid))
    }
}
