import Hummingbird
import PlumbAPI

/// Users: list, create, disable, API tokens, password, TOTP reset, policy attachment (an admin's, or an IAM user's
/// allowed `iam:…`).
extension IAMRoutes {
    @Sendable func listUsers(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(UserList(users: try iam.users()))
    }

    @Sendable func createUser(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(EntityName.self)
        try iam.createUser(body.name)
        return try Response.json(EntityName(name: body.name), status: .created)
    }

    @Sendable func disableUser(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try iam.disableUser(try Self.name("name", context))
        return try Response.json(UserDisabled())
    }

    /// Shown once: only its hash is kept.
    @Sendable func createToken(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(
            AccessToken(token: try iam.createToken(user: try Self.name("name", context))), status: .created)
    }

    @Sendable func setPassword(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(PasswordRequest.self)
        try iam.setPassword(user: try Self.name("name", context), password: body.password, settings: settings)
        return Response(status: .noContent)
    }

    @Sendable func resetMFA(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try iam.resetMFA(user: try Self.name("name", context))
        return Response(status: .noContent)
    }

    @Sendable func attachUserPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try iam.attach(
            policy: try Self.name("policy", context), kind: "user", principal: try Self.name("name", context))
        return Response(status: .noContent)
    }
}
