import Hummingbird
import PlumbHost
import PlumbKit

/// Who may call a route: the one declaration that the access checks follow, the README's route table shows and the
/// access test (every route of the router × every kind of credential) holds them to.
public enum RouteAccess: Sendable, Equatable, CustomStringConvertible {
    /// Anyone, with no credential.
    case anyone
    /// A token carried in the link itself (a subscription's confirmation link, an alarm mail's signed link to the
    /// alarm page).
    case linkToken
    /// Any platform user, for their own account (MFA enrolment, password, whoami), or the admin token.
    case ownAccount
    /// The admin token, or a platform user whose policies allow `action`.
    case iam(action: String)
    /// The admin token only.
    case adminToken
    /// A plugin function, as it declared itself (`Access`); `action` is what an IAM user needs.
    case function(Access, action: String)
    /// An AWS SigV4 signature by an access key Plumb issued; each operation is authorized by its IAM action.
    case awsSignature

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .linkToken: "the link's token"
        case .ownAccount: "any platform user (own account)"
        case .iam(let action): "IAM `\(action)`"
        case .adminToken: "admin token only"
        case .function(.public, _): "anyone"
        case .function(.user, let action): "signed-in end user, or IAM `\(action)`"
        case .function(.admin, let action): "IAM `\(action)`"
        case .awsSignature: "AWS SigV4 signature (an access key), IAM action per operation"
        }
    }
}

extension PlumbServer {
    /// The declared access of `METHOD path` (the router's `{param}` form), nil for a route nobody declared.
    public func declaredAccess(method: String, path: String) -> RouteAccess? {
        let route = "\(method) \(path)"
        switch route {
        case "GET /healthz", "GET /readyz", "POST /api/v1/iam/login", "GET /sns/{certificate}": return .anyone
        case "GET /metrics": return config.metricsRequireToken ? .adminToken : .anyone
        case "GET /subscriptions/confirm", "GET /alarms/{name}": return .linkToken
        case "POST /", "POST /service/{service}/operation/{operation}": return .awsSignature
        // Lambda's REST-JSON API (its paths begin with the API version of each operation).
        case _ where ["/2015-03-31/", "/2016-08-19/", "/2017-10-31/", "/2019-09-30/"].contains(where: path.hasPrefix):
            return .awsSignature
        default: break
        }
        if selfServiceRoutes.contains(route) || ownAccountRoutes.contains(route) { return .ownAccount }
        if let entry = APIActions.table[route] { return .iam(action: entry.action) }
        if path.hasPrefix("/api/v1/") { return .adminToken }
        if method == "GET", webSockets.endpoints.keys.contains(path) { return .anyone }
        for function in host.functions {
            guard case .http(let m, let p) = function.trigger, m.rawValue == method,
                RouterPath("/apps/\(function.pluginName)\(p)").description == path
            else { continue }
            return .function(
                function.access, action: function.access == .admin ? function.adminAction : "functions:InvokeFunction")
        }
        return nil
    }
}
