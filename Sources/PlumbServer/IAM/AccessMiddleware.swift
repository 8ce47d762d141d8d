import Hummingbird
import PlumbAuth
import PlumbStore

/// Who may call the API: the admin token is root (everything); a user's API token is allowed what its policies
/// allow for the route's action and resource (IAM evaluation); anything else is 401, a refusal 403 naming the
/// decision. A route without an action is the admin's only.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminToken: String
    let iam: IAMStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(status: 401, code: "Unauthorized", "missing 'Authorization: Bearer <token>' header")
        }
        guard header.hasPrefix("Bearer ") else { throw APIError(status: 401, code: "Unauthorized", "the Authorization header must be 'Bearer <token>'") }
        let presented = header.dropFirst(7)
        if AdminToken.matches(presented, adminToken) { return try await next(request, context) }
        guard presented.hasPrefix("plb_"), let principal = try iam.principal(token: String(presented)) else {
            throw APIError(status: 401, code: "Unauthorized", "unknown or revoked token")
        }
        let endpoint = context.endpointPath ?? request.uri.path
        guard let (action, resource) = APIActions.classify(method: request.method.rawValue, endpoint: endpoint, parameters: context.parameters) else {
            throw APIError(status: 403, code: "AccessDenied", "user \(principal.user): \(request.method.rawValue) \(endpoint) is for the admin token only")
        }
        let decision = PolicyEvaluator.evaluate(principal.policies, action: action, resource: resource)
        guard decision.allowed else {
            throw APIError(status: 403, code: "AccessDenied", "user \(principal.user) may not \(action) on \(resource): \(decision.explanation)")
        }
        return try await next(request, context)
    }
}
