import Hummingbird
import PlumbAuth
import PlumbIAM
import PlumbMetrics
import PlumbStore

/// Who may call the API: the admin token is root (everything); a user's API token is allowed what its policies
/// allow for the route's action and resource (IAM evaluation); anything else is 401, a refusal 403 naming the
/// decision. A route without an action is the admin's only. The caller is left in the context for the routes.
///
/// A user's own MFA enrolment and `whoami` need no policy. A user the config requires to sign in with a TOTP code
/// (`iam.require_mfa`) reaches only those with a token that was not given with one.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = PlumbRequestContext
    let callers: CallerResolver
    var settings = ServerConfig.IAMSettings()

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let caller = try await callers.resolve(request.headers[.authorization])
        context.caller = caller
        let principal: IAMPrincipal
        switch caller {
        case .anonymous:
            throw APIError(status: 401, code: "Unauthorized", "missing 'Authorization: Bearer <token>' header")
        case .admin:
            UsageCounters.apiRequest(user: "admin-token")
            return try await UsageAttribution.$user.withValue("admin-token") { try await next(request, context) }
        case .endUser:
            throw APIError(
                status: 403, code: "AccessDenied", "an end user's access token does not reach the platform API")
        case .iamUser(let p): principal = p
        }
        // Counted once let through (a refused call is not usage).
        let endpoint = context.endpointPath ?? request.uri.path
        if selfServiceRoutes.contains("\(request.method.rawValue) \(endpoint)") {
            UsageCounters.apiRequest(user: principal.user, groups: principal.groups)
            return try await UsageAttribution.$user.withValue(principal.user) { try await next(request, context) }
        }
        try CallerResolver.requireMFA(principal, settings: settings)
        if ownAccountRoutes.contains("\(request.method.rawValue) \(endpoint)") {
            UsageCounters.apiRequest(user: principal.user, groups: principal.groups)
            return try await UsageAttribution.$user.withValue(principal.user) { try await next(request, context) }
        }
        guard
            let (action, resource) = APIActions.classify(
                method: request.method.rawValue, endpoint: endpoint, parameters: context.parameters)
        else {
            throw APIError(
                status: 403, code: "AccessDenied",
                "user \(principal.user): \(request.method.rawValue) \(endpoint) is for the admin token only")
        }
        try CallerResolver.requireAllowed(principal, action: action, resource: resource)
        UsageCounters.apiRequest(user: principal.user, groups: principal.groups)
        // The usage the call causes (ingest, invocations) is recorded for the caller.
        return try await UsageAttribution.$user.withValue(principal.user) { try await next(request, context) }
    }
}

/// Routes every user may call for themselves, whatever their policies.
let selfServiceRoutes: Set<String> = [
    "POST /api/v1/iam/mfa/enrol", "POST /api/v1/iam/mfa/confirm", "GET /api/v1/iam/whoami",
]

/// Routes every user may call about their own account, whatever their policies, once past the MFA rule.
let ownAccountRoutes: Set<String> = ["POST /api/v1/iam/password"]
