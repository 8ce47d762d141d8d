import Hummingbird
import PlumbHost
import PlumbKit

/// Enforces a plugin function's declared `Access` for one caller, on every way in: its HTTP route
/// (`FunctionAccessMiddleware`) and the invoke API (`FunctionRoutes`). Schedules and topic events are the
/// platform's own calls and are not checked.
enum FunctionAccess {
    /// Over the function's own HTTP route.
    static func checkRoute(_ function: HostedFunction, caller: Caller, settings: ServerConfig.IAMSettings) throws {
        switch (function.access, caller) {
        case (.public, _), (_, .admin): return
        case (_, .anonymous):
            throw APIError(
                status: 401, code: "Unauthorized",
                "\(function.name) needs 'Authorization: Bearer <token>' (\(describe(function.access)))")
        case (.user, .endUser): return
        case (.admin, .endUser):
            throw APIError(
                status: 403, code: "AccessDenied",
                "\(function.name) is for operators; an end user's token does not reach it")
        case (.user, .iamUser(let principal)):
            try CallerResolver.requireMFA(principal, settings: settings)
            try CallerResolver.requireAllowed(
                principal, action: "functions:InvokeFunction", resource: "function/\(function.name)")
        case (.admin, .iamUser(let principal)):
            try CallerResolver.requireMFA(principal, settings: settings)
            try CallerResolver.requireAllowed(
                principal, action: function.adminAction, resource: "function/\(function.name)")
        }
    }

    /// Through `POST /api/v1/functions/{name}/invoke`, whose caller already holds `functions:InvokeFunction`: an
    /// admin function also needs its own action.
    static func checkInvoke(_ function: HostedFunction, caller: Caller) throws {
        guard function.access == .admin, case .iamUser(let principal) = caller else { return }
        try CallerResolver.requireAllowed(
            principal, action: function.adminAction, resource: "function/\(function.name)")
    }

    /// Who may call, as the README's route table and the errors say it.
    static func describe(_ access: Access) -> String {
        switch access {
        case .public: "anyone"
        case .user: "a signed-in end user, or an operator allowed functions:InvokeFunction"
        case .admin: "the admin token, or an IAM user allowed the function's action"
        }
    }
}

/// Puts a plugin route behind its function's declared access; the caller it found is left in the context
/// (`PluginRoutes` tells the function who the end user is).
struct FunctionAccessMiddleware: RouterMiddleware {
    typealias Context = PlumbRequestContext
    let function: HostedFunction
    let callers: CallerResolver
    let settings: ServerConfig.IAMSettings

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard function.access != .public else { return try await next(request, context) }
        var context = context
        context.caller = try await callers.resolve(request.headers[.authorization])
        try FunctionAccess.checkRoute(function, caller: context.caller, settings: settings)
        return try await next(request, context)
    }
}
