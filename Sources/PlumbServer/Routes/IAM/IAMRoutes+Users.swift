import Hummingbird
import PlumbAPI
import PlumbIAM

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

    /// A new AWS access key: the secret is in this answer only (it is kept sealed); two a user at most.
    @Sendable func createAccessKey(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let (key, secret) = try await iam.createAccessKey(user: try Self.name("name", context))
        return try Response.json(
            AWSAccessKey(
                accessKeyId: key.id, user: key.user, created: TimeParsing.format(key.createdAt),
                secretAccessKey: secret), status: .created)
    }

    @Sendable func listAccessKeys(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let keys = try await iam.accessKeys(user: try Self.name("name", context))
        return try Response.json(
            AWSAccessKeyList(
                accessKeys: keys.map {
                    AWSAccessKey(accessKeyId: $0.id, user: $0.user, created: TimeParsing.format($0.createdAt))
                }))
    }

    @Sendable func deleteAccessKey(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.deleteAccessKey(user: try Self.name("name", context), id: try Self.name("id", context))
        return Response(status: .noContent)
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
