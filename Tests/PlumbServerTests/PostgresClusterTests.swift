import Foundation
import PlumbAPI
import PlumbTesting
import Testing

/// `plumb serve` with `storage.logs: postgres` on a real PostgreSQL 15 (run as its own system user): two nodes share
/// the logs and the audit trail; PostgreSQL going away turns `/readyz` and log ingest into 503 with `Retry-After`,
/// and nothing acknowledged is lost; bad settings stop the start with a message that names the problem.
@Suite("Serve with logs on PostgreSQL", .serialized)
struct PostgresClusterTests {
    static func config(_ url: String) -> String {
        """
        storage:
          logs: postgres
          postgres:
            url: \(url)
            timeout: 3
        alerts: ./no-alerts
        """
    }

    static func put(
        _ server: ServerProcess, stream: String, _ messages: [String]
    ) async throws -> (Int, [String: String]) {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let events = messages.enumerated().map { i, m in #"{"timestamp": \#(now + Int64(i)), "message": "\#(m)"}"# }
        let body = #"{"events": [\#(events.joined(separator: ","))]}"#
        let answer = try await HTTP.exchange(
            "POST", server.baseURL + "/api/v1/logs/app/\(stream)", body: Array(body.utf8), token: server.token)
        return (answer.status, answer.headers)
    }

    /// Every message of group `app` as `server` reads it.
    static func messages(_ server: ServerProcess) async throws -> [String] {
        try await messages(base: server.baseURL, token: server.token)
    }

    /// Every message of group `app` as the server at `base` reads it, page after page.
    static func messages(base: String, token: String) async throws -> [String] {
        var out: [String] = []
        var next: String?
        repeat {
            let after = next.map { "&next=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
            let (status, body) = try await HTTP.request(
                "GET", base + "/api/v1/logs/app?limit=1000&start=0" + (after ?? ""), token: token)
            #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
            let page = try JSONDecoder().decode(LogEventsResponse.self, from: Data(body))
            out += page.events.map(\.message)
            next = page.next
        } while next != nil
        return out
    }

    @Test(
        "two nodes share logs and the audit trail; PostgreSQL away is 503 with Retry-After and loses nothing acknowledged"
    )
    func sharedAndOutage() async throws {
        let root = TemporaryDirectory("plumb-pg-serve")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let a = try await ServerProcess.start(config: Self.config(postgres.url), in: .scratch("plumb-pg-a"))
        defer { a.kill(signal: SIGKILL) }
        let b = try await ServerProcess.start(config: Self.config(postgres.url), in: .scratch("plumb-pg-b"))
        defer { b.kill(signal: SIGKILL) }
        #expect(a.log.contains("logs are kept in PostgreSQL"), "\(a.log)")

        var acknowledged: [String] = []
        for (server, name) in [(a, "a"), (b, "b")] {
            let batch = (0..<50).map { "node \(name) event \($0)" }
            let (status, _) = try await Self.put(server, stream: "web-\(name)", batch)
            #expect(status == 200)
            if status == 200 { acknowledged += batch }
        }
        // Each node reads what the other wrote.
        #expect(Set(try await Self.messages(b)) == Set(acknowledged))
        #expect(Set(try await Self.messages(a)) == Set(acknowledged))

        // A change through one node is audited in the shared trail, and the other node sees its effect.
        let (retention, retentionBody) = try await HTTP.request(
            "PUT", a.baseURL + "/api/v1/logs/app/retention", body: Array(#"{"days": 7}"#.utf8), token: a.token)
        #expect(retention == 200, "\(String(decoding: retentionBody, as: UTF8.self))")
        let (_, groupsBody) = try await HTTP.request("GET", b.baseURL + "/api/v1/logs?prefix=app", token: b.token)
        let group = try JSONDecoder().decode(LogGroupsResponse.self, from: Data(groupsBody)).groups.first
        #expect(group?.retentionDays == 7, "\(String(decoding: groupsBody, as: UTF8.self))")
        let audited = try await postgres.psql(
            """
            SELECT count(*) FROM log_events e JOIN log_groups g ON g.id = e.group_id
            WHERE g.name = '/plumb/audit' AND e.message LIKE '%/api/v1/logs/app/retention%'
            """)
        #expect(audited == "1")

        // PostgreSQL goes away: the nodes say they are not ready, and a write is refused so the sender keeps it.
        postgres.stop(signal: SIGQUIT)
        let notReady = try await waitFor("/readyz to turn 503", timeout: .seconds(30)) {
            () async -> [String: String]? in
            guard let answer = try? await HTTP.exchange("GET", a.baseURL + "/readyz"), answer.status == 503 else {
                return nil
            }
            return answer.headers
        }
        #expect(notReady["retry-after"] == "1")
        let (refused, refusedHeaders) = try await Self.put(a, stream: "web-a", ["written while PostgreSQL was away"])
        #expect(refused == 503)
        #expect(refusedHeaders["retry-after"] == "1")

        // Back: the nodes are ready again and take writes; everything acknowledged is there, once.
        try await postgres.restart()
        try await waitUntil("/readyz to answer 200 again", timeout: .seconds(60)) {
            (try? await HTTP.exchange("GET", b.baseURL + "/readyz"))?.status == 200
        }
        let after = ["after the outage"]
        let (status, _) = try await waitFor("a write to be taken again", timeout: .seconds(30)) {
            () async -> (Int, [String: String])? in
            let answer = try? await Self.put(a, stream: "web-a", after)
            return answer?.0 == 200 ? answer : nil
        }
        #expect(status == 200)
        acknowledged += after
        let stored = try await Self.messages(b)
        #expect(stored.sorted() == acknowledged.sorted(), "stored \(stored.count), acknowledged \(acknowledged.count)")
    }

    @Test(
        "IAM on PostgreSQL: a user and token made on one node work on the other; a disable or a lockout holds on both")
    func sharedIAM() async throws {
        let root = TemporaryDirectory("plumb-pg-iam")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }
        let config =
            Self.config(postgres.url).replacingOccurrences(
                of: "  logs: postgres\n", with: "  logs: postgres\n  state: postgres\n")
            + "\niam:\n  scrypt_n: 1024\n  lockout_after: 3\n"
        let a = try await ServerProcess.start(config: config, in: .scratch("plumb-pg-iam-a"))
        defer { a.kill(signal: SIGKILL) }
        let b = try await ServerProcess.start(config: config, in: .scratch("plumb-pg-iam-b"))
        defer { b.kill(signal: SIGKILL) }
        #expect(a.log.contains("IAM are kept in PostgreSQL"), "\(a.log)")

        func call(
            _ method: String, _ server: ServerProcess, _ path: String, _ body: String? = nil, token: String? = nil
        )
            async throws -> (Int, String)
        {
            let (status, answer) = try await HTTP.request(
                method, server.baseURL + path, body: body.map { Array($0.utf8) }, token: token ?? server.token)
            return (status, String(decoding: answer, as: UTF8.self))
        }
        func login(_ server: ServerProcess, _ body: String) async throws -> (Int, String) {
            let (status, answer) = try await HTTP.request(
                "POST", server.baseURL + "/api/v1/iam/login", body: Array(body.utf8))
            return (status, String(decoding: answer, as: UTF8.self))
        }
        // Made on a, used on b: the user, its group and a token.
        #expect(try await call("POST", a, "/api/v1/iam/users", #"{"name": "gus@example.com"}"#).0 == 201)
        #expect(try await call("PUT", a, "/api/v1/iam/groups/monitoring-writer/members/gus@example.com").0 == 204)
        let (created, tokenBody) = try await call("POST", b, "/api/v1/iam/users/gus@example.com/tokens")
        #expect(created == 201, "\(tokenBody)")
        let token = try JSONDecoder().decode(AccessToken.self, from: Data(tokenBody.utf8)).token
        for server in [a, b] {
            let (status, body) = try await call("GET", server, "/api/v1/iam/whoami", token: token)
            #expect(status == 200 && body.contains("monitoring-writer"), "\(body)")
            #expect(try await call("GET", server, "/api/v1/alarms", token: token).0 == 200)
        }
        #expect(try await call("GET", a, "/api/v1/iam/users", token: token).0 == 200)
        #expect(try await call("POST", a, "/api/v1/iam/users", #"{"name": "x"}"#, token: token).0 == 403)
        // Listed the same on both nodes.
        #expect(try await call("GET", a, "/api/v1/iam/users").1 == (try await call("GET", b, "/api/v1/iam/users").1))

        // Disabled on b: the token a has cached stops working there too, within its refresh (a second).
        #expect(try await call("POST", b, "/api/v1/iam/users/gus@example.com/disable").0 == 200)
        let disabledAt = ContinuousClock.now
        try await waitUntil("a to refuse the disabled user's token", timeout: .seconds(10)) {
            (try? await call("GET", a, "/api/v1/alarms", token: token))?.0 == 401
        }
        let took = ContinuousClock.now - disabledAt
        print("iam: a user disabled on b was refused on a \(took) later")
        #expect(took < .seconds(3), "\(took)")

        // Failed sign-ins count on every node: two on a and one on b lock the user out of both.
        #expect(try await call("POST", a, "/api/v1/iam/users", #"{"name": "hal@example.com"}"#).0 == 201)
        let password = #"{"password": "a long passphrase 42"}"#
        #expect(try await call("PUT", b, "/api/v1/iam/users/hal@example.com/password", password).0 == 204)
        let right = #"{"user": "hal@example.com", "password": "a long passphrase 42"}"#
        let wrong = #"{"user": "hal@example.com", "password": "not it"}"#
        let (signedIn, session) = try await login(a, right)
        #expect(signedIn == 201, "\(session)")
        for server in [a, a, b] {
            #expect(try await login(server, wrong).0 == 401)
        }
        for server in [a, b] {
            let (status, body) = try await login(server, right)
            #expect(status == 429 && body.contains("UserLocked"), "\(body)")
        }
    }

    @Test("wrong credentials, an unreachable server and a schema from a newer Plumb stop the start, each named")
    func badSettings() async throws {
        let root = TemporaryDirectory("plumb-pg-bad")
        defer { root.remove() }
        let postgres = try await PostgresProcess(directory: root.path + "/pg")
        defer { postgres.stop() }

        let wrong = postgres.url.replacingOccurrences(of: ":\(postgres.password)@", with: ":not-the-password@")
        let refused = try await ServerProcess.start(
            config: Self.config(wrong), in: .scratch("plumb-pg-wrong"), ready: false)
        defer { refused.kill(signal: SIGKILL) }
        #expect(try await refused.waitExit(timeout: .seconds(60)), "still running")
        #expect(refused.log.contains("password authentication failed"), "\(refused.log)")
        #expect(!refused.log.contains("not-the-password"), "the password is never logged")

        let port = ServerProcess.freePort()
        let away = try await ServerProcess.start(
            config: Self.config("postgres://plumb:x@127.0.0.1:\(port)/postgres?sslmode=disable"),
            in: .scratch("plumb-pg-away"), ready: false)
        defer { away.kill(signal: SIGKILL) }
        #expect(try await away.waitExit(timeout: .seconds(60)), "still running")
        #expect(away.log.contains("storage.postgres") && away.log.contains("127.0.0.1:\(port)"), "\(away.log)")

        // A node of this release sets the schema up; then a "newer" release is simulated by its version number.
        let first = try await ServerProcess.start(
            config: Self.config(postgres.url), in: .scratch("plumb-pg-first"))
        first.kill(signal: SIGTERM)
        _ = try await first.waitExit(timeout: .seconds(30))
        _ = try await postgres.psql("UPDATE plumb_schema SET version = 99 WHERE area = 'logs'")
        let older = try await ServerProcess.start(
            config: Self.config(postgres.url), in: .scratch("plumb-pg-older"), ready: false)
        defer { older.kill(signal: SIGKILL) }
        #expect(try await older.waitExit(timeout: .seconds(60)), "still running")
        #expect(older.log.contains("version 99, newer than this Plumb knows"), "\(older.log)")
        #expect(!older.log.contains("PostgresTransactionError"), "the reason itself, not the driver's wrapper")
    }
}
