import Hummingbird
import PlumbAuth
import PlumbStore

/// Who may call the API: the admin token is root (everything); a user's API token is allowed what its policies
/// allow for the route's action and resource (IAM evaluation); anything else is 401, a refusal 403 naming the
/// decision. A route without an action is the admin's only.
///
/// A user's own MFA enrolment and `whoami` need no policy. A user the config requires to sign in with a TOTP code
/// (`iam.require_mfa`) reaches only those with a token that was not given with one.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminToken: String
    let iam: IAMStore
    var settings = ServerConfig.IAMSettings()

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
        if selfServiceRoutes.contains("\(request.method.rawValue) \(endpoint)") { return try await next(request, context) }
        if !principal.mfa, IAMStore.mfaRequired(principal, settings: settings) {
            throw APIError(
                status: 403, code: "MFARequired",
                "user \(principal.user) must sign in with a TOTP code: `plumb mfa enrol`, then `plumb login --user \(principal.user)`")
        }
        if ownAccountRoutes.contains("\(request.method.rawValue) \(endpoint)") { return try await next(request, context) }
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

/// Routes every user may call for themselves, whatever their policies.
let selfServiceRoutes: Set<String> = ["POST /api/v1/iam/mfa/enrol", "POST /api/v1/iam/mfa/confirm", "GET /api/v1/iam/whoami"]

/// Routes every user may call about their own account, whatever their policies, once past the MFA rule.
let ownAccountRoutes: Set<String> = ["POST /api/v1/iam/password"]
