import PlumbAPI
import Foundation
import Hummingbird
import PlumbAuth
import PlumbLogs
import PlumbMetrics
import PlumbStore

/// `/api/v1/iam/…`: users, API tokens, groups, policies, attachments, the policy simulator, and users' sign-in
/// (password, TOTP device, `login`).
struct IAMRoutes {
    let iam: IAMStore
    var settings = ServerConfig.IAMSettings()
    var logs: LogStore?

    /// The user behind the request's token (self-service routes); the admin token is not a user.
    static func caller(_ request: Request, _ iam: IAMStore) throws -> IAMStore.Principal {
        let presented = request.headers[.authorization].map { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : $0 } ?? ""
        guard presented.hasPrefix("plb_"), let principal = try iam.principal(token: presented) else {
            throw APIError(status: 400, code: "NotAUser", "this is for a user's own token (the admin token is not a user)")
        }
        return principal
    }

    /// `POST /api/v1/iam/login`, outside the token check (it is how a user gets a token): the user name, the
    /// password and, once the user has a TOTP device, the code. Audited with the outcome; the password never is.
    func registerLogin(on router: Router<PlumbRequestContext>) {
        let (iam, settings, logs) = (self.iam, self.settings, self.logs)
        router.post("api/v1/iam/login") { request, context -> Response in
            let body = try await Self.object(request)
            guard let user = body["user"] as? String, let password = body["password"] as? String else {
                throw APIError(code: "MissingParameter", "'user' and 'password' are required")
            }
            var source = "unknown"
            if let address = context.remoteAddress { source = address.ipAddress ?? "\(address)" }
            // A name that could not be a user is not written to the audit as given.
            let named = IAMStore.validName(user) ? user : "invalid"
            func audit(_ status: Int, _ outcome: String) {
                guard let logs else { return }
                AuditMiddleware.write(logs, stream: "api", [
                    "time": TimeParsing.format(Int64(Date().timeIntervalSince1970)), "actor": "user:" + named,
                    "action": "iam:Login", "route": "POST /api/v1/iam/login", "resource": "user/" + named,
                    "source": source, "status": status, "result": outcome,
                ], logger: context.logger)
            }
            do {
                let session = try iam.login(user: user, password: password, code: body["code"] as? String, settings: settings)
                audit(201, session.mfa ? "success (mfa)" : "success")
                return try Self.json(["token": session.token, "expires_at": TimeParsing.format(session.expiresAt), "mfa": session.mfa], status: .created)
            } catch let error as PlumbError {
                audit(error.status, "denied")
                throw error
            }
        }
    }

    static func name(_ key: String, _ context: PlumbRequestContext) throws -> String {
        guard let raw = context.parameters.get(key), !raw.isEmpty else { throw APIError("\(key) is required") }
        return raw.removingPercentEncoding ?? raw
    }

    static func object(_ request: Request) async throws -> [String: Any] {
        let body = try await request.collectBody(limit: 64 * 1_024)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw APIError("the body must be a JSON object")
        }
        return object
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))))
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        let (iam, settings) = (self.iam, self.settings)
        api.get("iam/users") { _, _ in try Self.json(["users": try iam.list("users")]) }
        api.post("iam/users") { request, _ in
            guard let name = try await Self.object(request)["name"] as? String else { throw APIError(code: "MissingParameter", "'name' is required") }
            try iam.createUser(name)
            return try Self.json(["name": name], status: .created)
        }
        api.post("iam/users/:name/disable") { _, context in
            try iam.disableUser(try Self.name("name", context))
            return try Self.json(["disabled": true])
        }
        api.post("iam/users/:name/tokens") { _, context in
            // Shown once: only its hash is kept.
            try Self.json(["token": try iam.createToken(user: try Self.name("name", context))], status: .created)
        }
        api.put("iam/users/:name/password") { request, context in
            guard let password = try await Self.object(request)["password"] as? String else {
                throw APIError(code: "MissingParameter", "'password' is required")
            }
            try iam.setPassword(user: try Self.name("name", context), password: password, settings: settings)
            return Response(status: .noContent)
        }
        api.delete("iam/users/:name/mfa") { _, context in
            try iam.resetMFA(user: try Self.name("name", context))
            return Response(status: .noContent)
        }
        api.get("iam/whoami") { request, _ in
            let me = try Self.caller(request, iam)
            var out: [String: Any] = [
                "user": me.user, "groups": me.groups, "mfa": me.mfa, "mfa_enabled": try iam.mfaEnabled(user: me.user),
                "mfa_required": IAMStore.mfaRequired(me, settings: settings),
            ]
            if let expires = me.expiresAt { out["expires_at"] = TimeParsing.format(expires) }
            return try Self.json(out)
        }
        api.post("iam/password") { request, _ in
            let me = try Self.caller(request, iam)
            let body = try await Self.object(request)
            guard let current = body["current_password"] as? String, let new = body["new_password"] as? String else {
                throw APIError(code: "MissingParameter", "'current_password' and 'new_password' are required")
            }
            try iam.changePassword(user: me.user, current: current, new: new, settings: settings)
            return Response(status: .noContent)
        }
        api.post("iam/mfa/enrol") { request, _ in
            let me = try Self.caller(request, iam)
            let (secret, uri) = try iam.enrolMFA(user: me.user)
            return try Self.json(["secret": secret, "otpauth_uri": uri, "next": "POST /api/v1/iam/mfa/confirm {\"code\": …}"], status: .created)
        }
        api.post("iam/mfa/confirm") { request, _ in
            let me = try Self.caller(request, iam)
            guard let code = try await Self.object(request)["code"] as? String else { throw APIError(code: "MissingParameter", "'code' is required") }
            try iam.confirmMFA(user: me.user, code: code)
            return try Self.json(["mfa_enabled": true])
        }
        api.put("iam/users/:name/policies/:policy") { _, context in
            try iam.attach(policy: try Self.name("policy", context), kind: "user", principal: try Self.name("name", context))
            return Response(status: .noContent)
        }
        api.get("iam/groups") { _, _ in try Self.json(["groups": try iam.list("groups")]) }
        api.post("iam/groups") { request, _ in
            guard let name = try await Self.object(request)["name"] as? String else { throw APIError(code: "MissingParameter", "'name' is required") }
            try iam.createGroup(name)
            return try Self.json(["name": name], status: .created)
        }
        api.put("iam/groups/:name/members/:user") { _, context in
            try iam.addMember(group: try Self.name("name", context), user: try Self.name("user", context))
            return Response(status: .noContent)
        }
        api.put("iam/groups/:name/policies/:policy") { _, context in
            try iam.attach(policy: try Self.name("policy", context), kind: "group", principal: try Self.name("name", context))
            return Response(status: .noContent)
        }
        api.get("iam/policies") { _, _ in try Self.json(["policies": try iam.list("policies")]) }
        api.get("iam/policies/:name") { _, context in
            let name = try Self.name("name", context)
            guard let policy = try iam.list("policies").first(where: { $0["name"] as? String == name }) else {
                throw APIError(status: 404, code: "NoSuchEntity", "no policy '\(name)'")
            }
            return try Self.json(policy)
        }
        api.put("iam/policies/:name") { request, context in
            try iam.putPolicy(try Self.name("name", context), document: try await request.collectBody(limit: 64 * 1_024))
            return Response(status: .noContent)
        }
        api.delete("iam/policies/:name") { _, context in
            try iam.deletePolicy(try Self.name("name", context))
            return Response(status: .noContent)
        }
        // The decision for a user, an action and a resource, with the deciding statement.
        api.post("iam/simulate") { request, _ in
            let body = try await Self.object(request)
            guard let user = body["user"] as? String, let action = body["action"] as? String, let resource = body["resource"] as? String else {
                throw APIError(code: "MissingParameter", "'user', 'action' and 'resource' are required")
            }
            let decision = PolicyEvaluator.evaluate(try iam.policies(ofUser: user), action: action, resource: resource)
            var out: [String: Any] = ["decision": decision.outcome.rawValue, "allowed": decision.allowed, "explanation": decision.explanation]
            if let policy = decision.policy { out["policy"] = policy }
            if let statement = decision.statement { out["statement"] = statement }
            if let sid = decision.sid { out["sid"] = sid }
            return try Self.json(out)
        }
    }
}
