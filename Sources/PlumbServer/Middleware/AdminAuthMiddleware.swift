import Hummingbird

/// Requires `Authorization: Bearer <admin token>`; answers 401 with the JSON error shape otherwise.
public struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    public init(token: String) {
        self.token = token
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(status: 401, code: "Unauthorized", "missing 'Authorization: Bearer <token>' header")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), AdminToken.matches(header.dropFirst(prefix.count), token) else {
            throw APIError(status: 401, code: "Unauthorized", "wrong admin token")
        }
        return try await next(request, context)
    }
}
