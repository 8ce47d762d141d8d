import Hummingbird
import PlumbAPI

/// Groups: list, create, members, policy attachment.
extension IAMRoutes {
    @Sendable func listGroups(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(GroupList(groups: try iam.groups()))
    }

    @Sendable func createGroup(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.decodeJSONObject(EntityName.self)
        try iam.createGroup(body.name)
        return try Response.json(EntityName(name: body.name), status: .created)
    }

    @Sendable func addMember(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try iam.addMember(group: try Self.name("name", context), user: try Self.name("user", context))
        return Response(status: .noContent)
    }

    @Sendable func attachGroupPolicy(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try iam.attach(
            policy: try Self.name("policy", context), kind: "group", principal: try Self.name("name", context))
        return Response(status: .noContent)
    }
}
