import Foundation
import Hummingbird
import PlumbAuth
import PlumbStore

/// `/api/v1/iam/…`: users, API tokens, groups, policies, attachments, and the policy simulator.
struct IAMRoutes {
    let iam: IAMStore

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
        let iam = self.iam
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
