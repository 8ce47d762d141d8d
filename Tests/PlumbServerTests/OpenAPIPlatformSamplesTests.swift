import Foundation
import PlumbServer
import PlumbServerTesting
import PlumbStore
import PlumbTesting
import Testing
import Yams

/// The platform routes (IAM, topics, functions, connections) hold to `docs/openapi.yaml`: on a real `plumb serve`,
/// a valid request on every one of them answers what the document says for its status, as a second reader of the
/// contract checks it (Tests/peers/openapi_validate.py, Python's openapi-schema-validator); and each operation
/// declares the access the server enforces.
@Suite("OpenAPI: the platform routes", .serialized)
struct OpenAPIPlatformSamplesTests {
    /// The area's paths in the document.
    static let prefixes = [
        "/api/v1/iam/", "/api/v1/topics", "/api/v1/subscriptions/", "/api/v1/deliveries", "/api/v1/functions",
        "/api/v1/connections",
        "/subscriptions/confirm",
    ]
    static let document = Checkout.root + "/docs/openapi.yaml"
    static let password = "Cobalt-Lantern-92-Fjord"

    /// Every operation of the document: "METHOD /path" → the operation object.
    static func operations() throws -> [String: [String: Any]] {
        let root = try #require(
            try Yams.load(yaml: String(contentsOfFile: document, encoding: .utf8)) as? [String: Any])
        var out: [String: [String: Any]] = [:]
        for (path, item) in try #require(root["paths"] as? [String: Any]) where prefixes.contains(where: path.hasPrefix)
        {
            for (method, operation) in item as? [String: Any] ?? [:] {
                if let operation = operation as? [String: Any] { out["\(method.uppercased()) \(path)"] = operation }
            }
        }
        return out
    }

    /// Sends requests to a server and validates every answer against the document.
    final class Sampler: @unchecked Sendable {
        // @unchecked: used by one test, one request at a time.
        let server: ServerProcess
        let directory: String
        var sampled: Set<String> = []
        var count = 0

        init(server: ServerProcess, directory: String) {
            self.server = server
            self.directory = directory
        }

        /// `path` in the document's form; `params` fill it in. Expects `status`, validates the body, returns it.
        @discardableResult
        func call(
            _ method: String, _ path: String, _ params: [String: String] = [:], query: String = "", body: String? = nil,
            token: String? = "", expect status: Int, sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> [String: Any] {
            var uri = path
            for (name, value) in params { uri = uri.replacingOccurrences(of: "{\(name)}", with: value) }
            let (answered, headers, bytes) = try await HTTP.exchange(
                method, server.baseURL + uri + query, body: body.map { Array($0.utf8) },
                token: token == "" ? server.token : token)
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(answered == status, "\(method) \(uri)\(query): \(text)", sourceLocation: sourceLocation)
            count += 1
            let file = directory + "/answer-\(count)"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            let run = try await Python.run(
                Checkout.root + "/Tests/peers/openapi_validate.py",
                [
                    OpenAPIPlatformSamplesTests.document, method, path, String(answered), file,
                    headers["content-type"] ?? "",
                ])
            #expect(
                run.status == 0, "\(method) \(uri) \(answered) does not hold to the document: \(run.errors)\n\(text)",
                sourceLocation: sourceLocation)
            if answered == status { sampled.insert("\(method) \(path)") }
            return (try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
        }
    }

    @Test("a valid request on every platform route answers what the document says for its status")
    func samples() async throws {
        let root = TemporaryDirectory("plumb-openapi-platform")
        defer { root.remove() }
        let hookLog = root.path + "/hook.jsonl"
        let hook = try await PeerProcess(
            script: "webhook_receiver.py", arguments: ["--log", hookLog], logDirectory: root.path)
        defer { hook.stop() }
        try "iam:\n  scrypt_n: 1024\n".write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let sampler = Sampler(server: server, directory: root.path)

        try await Self.iam(sampler)
        try await Self.topics(sampler, hook: hook, hookLog: hookLog)
        try await Self.functions(sampler)
        try await Self.connections(sampler, server: server, directory: root.path)

        let documented = Set(try Self.operations().keys)
        #expect(documented.count >= 40, "the platform operations in the document: \(documented.sorted())")
        #expect(
            documented.subtracting(sampler.sampled).isEmpty,
            "without a sample: \(documented.subtracting(sampler.sampled).sorted())")
    }

    static func iam(_ s: Sampler) async throws {
        let user = ["name": "sample-user"]
        try await s.call("POST", "/api/v1/iam/users", body: #"{"name": "sample-user"}"#, expect: 201)
        try await s.call("GET", "/api/v1/iam/users", expect: 200)
        try await s.call(
            "PUT", "/api/v1/iam/users/{name}/password", user, body: #"{"password": "\#(password)"}"#, expect: 204)
        let session = try await s.call(
            "POST", "/api/v1/iam/login", body: #"{"user": "sample-user", "password": "\#(password)"}"#, token: nil,
            expect: 201)
        try await s.call("GET", "/api/v1/iam/whoami", token: try #require(session["token"] as? String), expect: 200)
        let token = try #require(
            try await s.call("POST", "/api/v1/iam/users/{name}/tokens", user, expect: 201)["token"] as? String)
        let key = try #require(
            try await s.call("POST", "/api/v1/iam/users/{name}/access-keys", user, expect: 201)["access_key_id"]
                as? String)
        try await s.call("GET", "/api/v1/iam/users/{name}/access-keys", user, expect: 200)
        try await s.call(
            "DELETE", "/api/v1/iam/users/{name}/access-keys/{id}", ["name": "sample-user", "id": key], expect: 204)
        let enrolment = try await s.call("POST", "/api/v1/iam/mfa/enrol", token: token, expect: 201)
        let code = try await IAMLoginTests.pyotp(try #require(enrolment["secret"] as? String), offset: 0)
        try await s.call("POST", "/api/v1/iam/mfa/confirm", body: #"{"code": "\#(code)"}"#, token: token, expect: 200)
        try await s.call("DELETE", "/api/v1/iam/users/{name}/mfa", user, expect: 204)
        try await s.call(
            "POST", "/api/v1/iam/password",
            body: #"{"current_password": "\#(password)", "new_password": "Harbour-Quartz-58-Meadow"}"#,
            token: token, expect: 204)
        try await s.call("POST", "/api/v1/iam/groups", body: #"{"name": "sample-group"}"#, expect: 201)
        try await s.call(
            "PUT", "/api/v1/iam/groups/{name}/members/{user}", ["name": "sample-group", "user": "sample-user"],
            expect: 204)
        try await s.call(
            "PUT", "/api/v1/iam/groups/{name}/policies/{policy}", ["name": "sample-group", "policy": "read-only"],
            expect: 204)
        try await s.call("GET", "/api/v1/iam/groups", expect: 200)
        for name in ["sample-policy", "sample-spare"] {
            try await s.call(
                "PUT", "/api/v1/iam/policies/{name}", ["name": name],
                body: """
                    {"Version": "2012-10-17", "Statement": {"Sid": "Topics", "Effect": "Allow", "Action": ["topics:*"], "Resource": "topic/*"}}
                    """, expect: 204)
        }
        try await s.call(
            "PUT", "/api/v1/iam/users/{name}/policies/{policy}", ["name": "sample-user", "policy": "sample-policy"],
            expect: 204)
        try await s.call("GET", "/api/v1/iam/policies", expect: 200)
        try await s.call("GET", "/api/v1/iam/policies/{name}", ["name": "sample-policy"], expect: 200)
        try await s.call("GET", "/api/v1/iam/policies/{name}", ["name": "no-such-policy"], expect: 404)
        try await s.call("DELETE", "/api/v1/iam/policies/{name}", ["name": "sample-spare"], expect: 204)
        try await s.call(
            "POST", "/api/v1/iam/simulate",
            body: #"{"user": "sample-user", "action": "topics:Publish", "resource": "topic/x"}"#, expect: 200)
        try await s.call("POST", "/api/v1/iam/users", body: #"{"name": "sample-gone"}"#, expect: 201)
        try await s.call("POST", "/api/v1/iam/users/{name}/disable", ["name": "sample-gone"], expect: 200)
    }

    static func topics(_ s: Sampler, hook: PeerProcess, hookLog: String) async throws {
        let topic = ["topic": "sample-topic"]
        let policy = #"{"num_retries": 0, "min_delay": 0, "max_delay": 0, "backoff": "linear"}"#
        try await s.call(
            "POST", "/api/v1/topics", body: #"{"name": "sample-topic", "delivery_policy": \#(policy)}"#, expect: 201)
        try await s.call("GET", "/api/v1/topics", expect: 200)
        try await s.call("GET", "/api/v1/topics/{topic}", topic, expect: 200)
        let endpoint = "http://127.0.0.1:\(hook.port)/hook"
        try await s.call(
            "POST", "/api/v1/topics/{topic}/subscriptions", topic,
            body: #"{"protocol": "webhook", "endpoint": "\#(endpoint)", "secret": "sample-secret-0123456789"}"#,
            expect: 201)
        // A webhook nothing listens at, retried never: its confirmation request fails at once.
        let dead = "http://127.0.0.1:\(ServerProcess.freePort())/dead"
        let doomed = try await s.call(
            "POST", "/api/v1/topics/{topic}/subscriptions", topic,
            body: #"{"protocol": "webhook", "endpoint": "\#(dead)", "delivery_policy": \#(policy)}"#, expect: 201)
        try await s.call("GET", "/api/v1/topics/{topic}/subscriptions", topic, expect: 200)
        let token = try await waitFor(
            "the confirmation request at the webhook", timeout: .seconds(30), every: .milliseconds(200)
        ) {
            PeerRecords.jsonLines(hookLog).compactMap { ($0["body"] as? [String: Any])?["token"] as? String }.first
        }
        try await s.call("GET", "/subscriptions/confirm", query: "?token=\(token)", token: nil, expect: 200)
        try await s.call(
            "POST", "/api/v1/topics/{topic}/publish", topic,
            body: #"{"subject": "s", "message": "m", "attributes": {"k": "v"}}"#, expect: 200)
        let failed = try await waitFor("a failed delivery", timeout: .seconds(30), every: .milliseconds(200)) {
            let page = try await s.call("GET", "/api/v1/deliveries", query: "?status=failed&limit=10", expect: 200)
            return ((page["deliveries"] as? [[String: Any]]) ?? []).first?["id"] as? Int
        }
        try await s.call("GET", "/api/v1/deliveries", query: "?topic=sample-topic&limit=1", expect: 200)
        try await s.call("POST", "/api/v1/deliveries/{id}/retry", ["id": String(failed)], expect: 200)
        let doomedID = ["id": try #require(doomed["id"] as? String)]
        try await s.call(
            "PUT", "/api/v1/subscriptions/{id}/delivery-policy", doomedID, body: #"{"delivery_policy": \#(policy)}"#,
            expect: 200)
        try await s.call(
            "PUT", "/api/v1/subscriptions/{id}/delivery-policy", doomedID, body: #"{"delivery_policy": null}"#,
            expect: 200)
        try await s.call("PUT", "/api/v1/subscriptions/{id}/delivery-policy", doomedID, body: "{}", expect: 400)
        try await s.call("DELETE", "/api/v1/subscriptions/{id}", doomedID, expect: 204)
        try await s.call(
            "PUT", "/api/v1/topics/{topic}/delivery-policy", topic, body: #"{"delivery_policy": \#(policy)}"#,
            expect: 200)
        try await s.call("POST", "/api/v1/topics", body: #"{"name": "sample-doomed"}"#, expect: 201)
        try await s.call("DELETE", "/api/v1/topics/{topic}", ["topic": "sample-doomed"], expect: 204)
        try await s.call("DELETE", "/api/v1/topics/{topic}", ["topic": "sample-doomed"], expect: 404)
    }

    static func functions(_ s: Sampler) async throws {
        let function = ["name": "sentiment.classify"]
        try await s.call("GET", "/api/v1/functions", expect: 200)
        try await s.call("GET", "/api/v1/functions/{name}", function, expect: 200)
        try await s.call(
            "POST", "/api/v1/functions/{name}/invoke", function, body: #"{"text": "What a wonderful release"}"#,
            expect: 200)
        try await s.call(
            "POST", "/api/v1/functions/{name}/invoke", function, query: "?type=Event", body: #"{"text": "later"}"#,
            expect: 202)
        try await s.call("GET", "/api/v1/functions/{name}/events", function, expect: 200)
        try await s.call(
            "PUT", "/api/v1/functions/{name}/concurrency", function, body: #"{"reserved": 10, "provisioned": 1}"#,
            expect: 200)
        try await s.call(
            "PUT", "/api/v1/functions/{name}/concurrency", function, body: #"{"reserved": null, "provisioned": 0}"#,
            expect: 200)
        try await s.call("GET", "/api/v1/functions/{name}/scaling", function, query: "?limit=5", expect: 200)
        try await s.call("GET", "/api/v1/functions/{name}", ["name": "no.such"], expect: 404)

        // A Lambda handler made, changed and deleted through the API (admin token only).
        let zip = Data(
            try ZipArchive.archive([
                .init(path: "app.py", bytes: Array("def handler(event, context):\n    return {'ok': True}\n".utf8))
            ])
        ).base64EncodedString()
        let handler = ["name": "sample-handler"]
        let definition =
            #"{"runtime": "python3.12", "handler": "app.handler", "zipFile": "\#(zip)", "environment": {"MODE": "sample"}}"#
        try await s.call("PUT", "/api/v1/functions/{name}", handler, body: definition, expect: 201)
        try await s.call(
            "PUT", "/api/v1/functions/{name}", handler, body: #"{"timeout": 5, "role": "reader"}"#, expect: 200)
        try await s.call("PUT", "/api/v1/functions/{name}", function, body: #"{"timeout": 5}"#, expect: 409)
        try await s.call(
            "PUT", "/api/v1/functions/{name}", ["name": "no-such-handler"], body: #"{"timeout": 5}"#, expect: 400)
        try await s.call("DELETE", "/api/v1/functions/{name}", handler, expect: 204)
        try await s.call("DELETE", "/api/v1/functions/{name}", handler, expect: 404)
        try await s.call("DELETE", "/api/v1/functions/{name}", function, expect: 409)
    }

    /// A chat member (Python's `websockets`) holds a connection open for the admin to post to and close.
    static func connections(_ s: Sampler, server: ServerProcess, directory: String) async throws {
        let script = """
            import asyncio, websockets
            async def main():
                async with websockets.connect("ws://127.0.0.1:\(server.port)/apps/chat/ws?room=openapi&user=sampler") as ws:
                    await asyncio.sleep(60)
            asyncio.run(main())
            """
        let log = try ChildProcess.openForAppending(directory + "/websocket.out")
        let member = try ChildProcess("/usr/bin/env", ["python3", "-c", script], stdout: log, stderr: log)
        close(log)
        defer {
            member.signal(SIGKILL)
            member.waitExited()
        }
        let id = try await waitFor("the chat member's connection", timeout: .seconds(30), every: .milliseconds(200)) {
            let list = try JSONSerialization.jsonObject(
                with: Data(try await HTTP.request("GET", server.baseURL + "/api/v1/connections", token: server.token).1)
            )
            return (((list as? [String: Any])?["connections"] as? [[String: Any]]) ?? []).first?["id"] as? String
        }
        try await s.call("GET", "/api/v1/connections", expect: 200)
        try await s.call(
            "POST", "/api/v1/connections/{id}", ["id": id], body: #"{"type": "notice", "text": "from the sampler"}"#,
            expect: 200)
        try await s.call("DELETE", "/api/v1/connections/{id}", ["id": id], expect: 204)
        try await s.call("DELETE", "/api/v1/connections/{id}", ["id": "no-such-connection"], expect: 410)
    }

    @Test("each platform operation declares the access the server enforces: its IAM action, its own account, or none")
    func access() async throws {
        let operations = try Self.operations().mapValues { operation in
            (
                action: operation["x-plumb-action"] as? String,
                open: (operation["security"] as? [Any])?.isEmpty == true,
                adminOnly: operation["x-plumb-admin-only"] as? Bool == true
            )
        }
        let configure: (inout ServerConfig) -> Void = { $0.plugins["accounts"] = ["scrypt_n": "1024"] }
        try await withTestServer(
            plugins: RouteAccessTests.shipped, configure: configure
        ) { server, _ in
            for (key, operation) in operations.sorted(by: { $0.key < $1.key }) {
                let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
                let declared = server.declaredAccess(method: parts[0], path: parts[1])
                let (action, open) = (operation.action, operation.open)
                switch declared {
                case .iam(let expected)?:
                    #expect(
                        action == expected && !open,
                        "\(key): the document says \(action ?? "no action"), the server \(expected)")
                case .ownAccount?:
                    #expect(action == nil && !open, "\(key): a user's own account needs no action, and a token")
                case .anyone?, .linkToken?:
                    #expect(action == nil && open, "\(key): needs no token (security: [])")
                case .adminToken?:
                    #expect(
                        action == nil && !open && operation.adminOnly,
                        "\(key): admin token only (x-plumb-admin-only: true, no action)")
                default:
                    Issue.record("\(key): the server declares \(declared.map { "\($0)" } ?? "nothing")")
                }
            }
        }
    }
}
