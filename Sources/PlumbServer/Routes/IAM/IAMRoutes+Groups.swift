import Hummingbird
import PlumbAPI

/// Groups: list, create, members, policy attachment.
extension IAMRoutes {
    @Sendable func listGroups(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(GroupList(groups: try await iam.groups()))
    }

    @Sendable func createGroup(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(EntityName.self)
        try await iam.createGroup(body.name)
        return try Response.json(EntityName(name: body.name), status: .created)
    }

    @Sendable func addMember(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.addMember(group: try Self.name("name", context), user: try Self.name("user", context))
        return Response(status: .noContent)
    }

    @Sendable func attachGroupPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try await iam.attach(policy: try Self.name("policy", context), to: .group(try Self.name("name", context)))
        return Response(status: .noContent)
    }
}
