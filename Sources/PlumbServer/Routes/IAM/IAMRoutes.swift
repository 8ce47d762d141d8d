import Foundation
import Hummingbird
import PlumbAPI
import PlumbIAM
import PlumbLogs

/// `/api/v1/iam/…`: users, API tokens, groups, policies, attachments, the policy simulator, and users' sign-in
/// (password, TOTP device, `login`). A controller: each route is a named handler in an extension by concept
/// (`+Users`, `+Groups`, `+Policies`, `+Account`, `+Login`), bound here.
struct IAMRoutes: Sendable {
    let iam: IAM
    var settings = ServerConfig.IAMSettings()
    var logs: (any LogStoring)?

    /// `POST /api/v1/iam/login`, outside the token check: it is how a user gets a token.
    func registerLogin(on router: Router<PlumbRequestContext>) {
        router.post("api/v1/iam/login", use: login)
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("iam/users", use: listUsers)
        api.post("iam/users", use: createUser)
        api.post("iam/users/:name/disable", use: disableUser)
        api.post("iam/users/:name/tokens", use: createToken)
        api.post("iam/users/:name/access-keys", use: createAccessKey)
        api.get("iam/users/:name/access-keys", use: listAccessKeys)
        api.delete("iam/users/:name/access-keys/:id", use: deleteAccessKey)
        api.put("iam/users/:name/password", use: setPassword)
        api.delete("iam/users/:name/mfa", use: resetMFA)
        api.put("iam/users/:name/policies/:policy", use: attachUserPolicy)
        api.get("iam/whoami", use: whoami)
        api.post("iam/password", use: changePassword)
        api.post("iam/mfa/enrol", use: enrolMFA)
        api.post("iam/mfa/confirm", use: confirmMFA)
        api.get("iam/groups", use: listGroups)
        api.post("iam/groups", use: createGroup)
        api.put("iam/groups/:name/members/:user", use: addMember)
        api.put("iam/groups/:name/policies/:policy", use: attachGroupPolicy)
        api.get("iam/policies", use: listPolicies)
        api.get("iam/policies/:name", use: getPolicy)
        api.put("iam/policies/:name", use: putPolicy)
        api.delete("iam/policies/:name", use: deletePolicy)
        api.post("iam/simulate", use: simulate)
    }

    /// A path parameter, percent-decoded (user names may hold `@` and `+`); an empty one is refused.
    static func name(_ key: String, _ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get(key), !raw.isEmpty else { throw APIError("\(key) is required") }
        return raw.removingPercentEncoding ?? raw
    }
}
