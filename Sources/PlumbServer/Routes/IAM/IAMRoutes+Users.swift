import Hummingbird
import PlumbAPI

/// Users: list, create, disable, API tokens, password, TOTP reset, policy attachment (an admin's, or an IAM user's
/// allowed `iam:…`).
extension IAMRoutes {
    @Sendable func listUsers(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(UserList(users: try await iam.users()))
    }

    @Sendable func createUser(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(EntityName.self)
        try await iam.createUser(body.name)
        return try Response.json(EntityName(name: body.name), status: .created)
    }

    @Sendable func disableUser(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.disableUser(try Self.name("name", context))
        return try Response.json(UserDisabled())
    }

    /// Shown once: only its hash is kept.
    @Sendable func createToken(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(
            AccessToken(token: try await iam.createToken(user: try Self.name("name", context))), status: .created)
    }

    @Sendable func setPassword(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(PasswordRequest.self)
        try await iam.setPassword(user: try Self.name("name", context), password: body.password)
        return Response(status: .noContent)
    }

    @Sendable func resetMFA(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.resetMFA(user: try Self.name("name", context))
        return Response(status: .noContent)
    }

    @Sendable func attachUserPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.attach(policy: try Self.name("policy", context), to: .user(try Self.name("name", context)))
        return Response(status: .noContent)
    }
}
