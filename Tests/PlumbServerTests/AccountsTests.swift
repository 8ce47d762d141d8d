import Foundation
import PlumbTesting
import Testing

/// End-user accounts against a real server: password rules, security questions, sign-in tokens verified by PyJWT
/// through the JWKS, refresh rotation and reuse, lockout, the per-source throttle, and no secret in any log group.
/// Equal timing for unknown accounts is `AccountsTimingTests`.
@Suite("Accounts", .serialized)
struct AccountsTests {
    static func post(_ url: String, _ object: [String: Any], token: String? = nil) async throws -> (Int, [String: Any])
    {
        let (status, body) = try await HTTP.request(
            "POST", url, body: Array(try JSONSerialization.data(withJSONObject: object)), token: token)
        return (status, json(body))
    }

    /// The second phase of sign-up, which completes an account so it can sign in: two answers to the questions.
    static func answerQuestions(_ base: String, email: String, password: String) async throws {
        let (_, listed) = try await HTTP.request("GET", base + "/questions")
        let questions = json(listed)["questions"] as? [String] ?? []
        let (status, answer) = try await post(
            base + "/security-questions",
            [
                "email": email, "password": password,
                "answers": [
                    ["question": questions[0], "answer": "Saint Mary's"],
                    ["question": questions[1], "answer": "Leeds"],
                ],
            ])
        #expect(status == 200, "\(answer)")
    }

    /// A real server whose accounts lock after 5 failures, allow 400 attempts a minute from one address, and hash
    /// with N = 2^14.
    static func server(_ root: TemporaryDirectory, signinsPerMinute: Int = 400) async throws -> ServerProcess {
        try
            "plugins:\n  accounts:\n    lockout_after: 5\n    signins_per_minute_per_source: \(signinsPerMinute)\n    scrypt_n: 16384\n"
            .write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        try await server.waitReady()
        return server
    }

    @Test("sign-up rules, tokens through the JWKS, rotation and reuse, lockout, throttle, no secrets in logs")
    func accounts() async throws {
        let root = TemporaryDirectory("plumb-accounts")
        defer { root.remove() }
        // 100 attempts a minute: the throttle below is reached within its window even on a loaded machine (400
        // scrypt sign-ins took longer than a minute in a CI rehearsal, and the window let the early ones go).
        let server = try await AccountsTests.server(root, signinsPerMinute: 100)
        defer { server.kill(signal: SIGKILL) }
        let base = server.baseURL + "/apps/accounts"
        let password = "Tangerine-Orbit-47-Quill"
        // Password rules.
        for (bad, reason) in [
            ("short-pw-1", "12 characters"), ("elephantine!", "dictionary"), ("Password1234!", "dictionary"),
            ("ana@example.com", "email"),
        ] {
            let (status, answer) = try await Self.post(base + "/signup", ["email": "ana@example.com", "password": bad])
            #expect(
                status == 400 && ((answer["error"] as? [String: Any])?["message"] as? String ?? "").contains(reason),
                "\(bad): \(answer)")
        }
        var (status, answer) = try await Self.post(
            base + "/signup", ["email": "Ana@Example.com", "password": password])
        #expect(status == 201 && answer["next"] as? String == "security-questions", "\(answer)")
        (status, _) = try await Self.post(base + "/signup", ["email": "ana@example.com", "password": password])
        #expect(status == 409)
        let questions = (answer["questions"] as? [String]) ?? []
        (status, answer) = try await Self.post(
            base + "/security-questions",
            [
                "email": "ana@example.com", "password": password,
                "answers": [
                    ["question": questions[0], "answer": "  Saint  Mary's "],
                    ["question": questions[2], "answer": "Rex"],
                ],
            ])
        #expect(status == 200 && answer["questions"] as? Int == 2, "\(answer)")

        // Sign-in; PyJWT fetches the JWKS over HTTP and verifies the access token.
        (status, answer) = try await Self.post(base + "/signin", ["email": "ana@example.com", "password": password])
        let access = try #require(answer["access_token"] as? String, "\(answer)")
        let refresh1 = try #require(answer["refresh_token"] as? String)
        let (_, discoveryBody) = try await HTTP.request("GET", base + "/.well-known/openid-configuration")
        let discovery = json(discoveryBody)
        // The server runs on a port of its own: the discovery document must name it (it named 9400 whatever the
        // listen address was), and PyJWT below fetches the keys from that very URL.
        #expect(discovery["jwks_uri"] as? String == base + "/.well-known/jwks.json", "\(discovery)")
        #expect(discovery["issuer"] as? String == base, "\(discovery)")
        let script = """
            import sys, jwt
            client = jwt.PyJWKClient(sys.argv[1])
            key = client.get_signing_key_from_jwt(sys.argv[2])
            print(jwt.decode(sys.argv[2], key.key, algorithms=["ES256"], audience="plumb")["email"])
            """
        let verified = try await CLI.runProgram(
            "/usr/bin/env", ["python3", "-c", script, base + "/.well-known/jwks.json", access])
        #expect(
            verified.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ana@example.com", "\(verified.output)")
        let (infoStatus, info) = try await HTTP.request("GET", base + "/userinfo", token: access)
        #expect(infoStatus == 200 && json(info)["email"] as? String == "ana@example.com")
        let tampered = access.dropLast(4) + (access.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        #expect(try await HTTP.request("GET", base + "/userinfo", token: String(tampered)).0 == 401)

        // Key rotation now (admin only): the JWKS publishes both keys, the token signed before still verifies.
        #expect(try await HTTP.request("POST", base + "/keys/rotate").0 == 401)
        let (rotated, rotation) = try await HTTP.request("POST", base + "/keys/rotate", token: server.token)
        #expect(rotated == 200 && json(rotation)["keys"] as? Int == 2, "\(String(decoding: rotation, as: UTF8.self))")
        let again = try await CLI.runProgram(
            "/usr/bin/env", ["python3", "-c", script, base + "/.well-known/jwks.json", access])
        #expect(
            again.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ana@example.com",
            "the old key still verifies: \(again.output)")

        // Rotation: a refresh token works once; reusing it revokes the family, the newest token too.
        (status, answer) = try await Self.post(base + "/refresh", ["refresh_token": refresh1])
        let refresh2 = try #require(answer["refresh_token"] as? String, "\(answer)")
        (status, answer) = try await Self.post(base + "/refresh", ["refresh_token": refresh1])
        #expect(status == 401 && (answer["error"] as? [String: Any])?["code"] as? String == "TokenReused")
        (status, _) = try await Self.post(base + "/refresh", ["refresh_token": refresh2])
        #expect(status == 401, "the family is revoked")
        // Sign-out revokes.
        (_, answer) = try await Self.post(base + "/signin", ["email": "ana@example.com", "password": password])
        let refresh3 = try #require(answer["refresh_token"] as? String)
        (status, _) = try await Self.post(base + "/signout", ["refresh_token": refresh3])
        #expect(status == 204)
        (status, _) = try await Self.post(base + "/refresh", ["refresh_token": refresh3])
        #expect(status == 401)

        // TOTP MFA: enrol, confirm with pyotp's code, then sign-in needs a fresh code; a replay and a wrong code fail;
        // a recovery code works once.
        (_, answer) = try await Self.post(base + "/signin", ["email": "ana@example.com", "password": password])
        let session = try #require(answer["access_token"] as? String)
        (status, answer) = try await Self.post(base + "/mfa/enrol", [:], token: session)
        let secret = try #require(answer["secret"] as? String, "\(answer)")
        #expect(
            (answer["otpauth_uri"] as? String ?? "").hasPrefix("otpauth://totp/Plumb:ana@example.com?secret=\(secret)"))
        func pyotp(_ offset: Int) async throws -> String {
            try await CLI.runProgram(
                "/usr/bin/env",
                ["python3", "-c", "import pyotp, time; print(pyotp.TOTP('\(secret)').at(time.time() + \(offset)))"]
            )
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Confirmed with the current step's code and signed in with the next step's: both lie within the one step of
        // skew the server allows even when a step boundary passes while Python starts (a loaded machine), and the
        // sign-in's step is later than the confirmation's, as a used step must be.
        (status, answer) = try await Self.post(base + "/mfa/confirm", ["code": try await pyotp(0)], token: session)
        let recovery = try #require(answer["recovery_codes"] as? [String], "\(answer)")
        #expect(status == 200 && recovery.count == 10)
        (status, answer) = try await Self.post(base + "/signin", ["email": "ana@example.com", "password": password])
        #expect(status == 401 && (answer["error"] as? [String: Any])?["code"] as? String == "MFARequired", "\(answer)")
        let code = try await pyotp(30)
        (status, answer) = try await Self.post(
            base + "/signin", ["email": "ana@example.com", "password": password, "code": code])
        #expect(status == 200 && answer["access_token"] is String, "\(answer)")
        (status, _) = try await Self.post(
            base + "/signin", ["email": "ana@example.com", "password": password, "code": code])
        #expect(status == 401, "a used code is a replay")
        (status, _) = try await Self.post(
            base + "/signin", ["email": "ana@example.com", "password": password, "code": "000000"])
        #expect(status == 401)
        (status, _) = try await Self.post(
            base + "/signin", ["email": "ana@example.com", "password": password, "recovery_code": recovery[3]])
        #expect(status == 200)
        (status, _) = try await Self.post(
            base + "/signin", ["email": "ana@example.com", "password": password, "recovery_code": recovery[3]])
        #expect(status == 401, "a recovery code works once")

        // Brute force: 5 failures lock the account (429 even with the right password), with Retry-After.
        for i in 0..<5 {
            _ = try await Self.post(
                base + "/signin", ["email": "ana@example.com", "password": "guess-\(i)-guess-\(i)"])
        }
        (status, answer) = try await Self.post(base + "/signin", ["email": "ana@example.com", "password": password])
        #expect(
            status == 429 && (answer["error"] as? [String: Any])?["code"] as? String == "AccountLocked", "\(answer)")
        // The per-source throttle: at most 100 attempts a minute from this address.
        var throttled = false
        for i in 0..<120 where !throttled {
            let (s, a) = try await Self.post(base + "/signin", ["email": "x\(i)@example.com", "password": "p"])
            throttled = s == 429 && (a["error"] as? [String: Any])?["code"] as? String == "TooManyRequests"
        }
        #expect(throttled, "attempts from one address are throttled")

        // The audit trail has the sign-up, sign-ins, failures and the reuse, with the account as actor.
        let (_, auditBody) = try await HTTP.request(
            "GET", server.baseURL + "/api/v1/logs/%2Fplumb%2Faudit?limit=5000", token: server.token)
        let audit = (json(auditBody)["events"] as? [[String: Any]] ?? []).map {
            json(Array(($0["message"] as? String ?? "").utf8))
        }
        let actions = Set(audit.compactMap { $0["action"] as? String })
        #expect(
            actions.isSuperset(of: [
                "accounts:signup", "accounts:signin", "accounts:signin-failed", "accounts:refresh-reuse-revoked",
                "accounts:signin-locked", "accounts:signout",
                "accounts:mfa-enrol", "accounts:mfa-enabled", "accounts:mfa-failed", "accounts:mfa-recovery-code-used",
            ]), "\(actions.sorted())")
        #expect(
            audit.contains {
                $0["action"] as? String == "accounts:signin-failed" && $0["result"] as? String == "denied"
                    && ($0["actor"] as? String ?? "").hasPrefix("account:")
            })
        // No password, answer or token in any log group.
        let (_, groupsBody) = try await HTTP.request("GET", server.baseURL + "/api/v1/logs", token: server.token)
        let groups = (json(groupsBody)["groups"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(groups.contains("/plumb/plugins/accounts"), "\(groups)")
        for group in groups {
            let (_, text) = try await HTTP.request(
                "GET",
                server.baseURL
                    + "/api/v1/logs/\(group.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)?limit=10000",
                token: server.token)
            let all = String(decoding: text, as: UTF8.self)
            for hidden in [
                password, "Saint", access, refresh1, refresh2, "guess-1-guess", secret, recovery[0], recovery[3],
            ] { #expect(!all.contains(hidden), "\(group) holds a secret") }
        }
    }
}

/// Sign-in with a wrong password answers in the same time whether or not the account exists. A wall-clock
/// measurement: scripts/test.sh runs it after the rest of the suite, alone on the machine (as every test whose
/// name ends in `TimingTests`).
@Suite("Accounts timing")
struct AccountsTimingTests {
    @Test("a wrong password for an existing and for an unknown account: medians of 50 within 10 %")
    func equalTiming() async throws {
        let root = TemporaryDirectory("plumb-accounts-timing")
        defer { root.remove() }
        let server = try await AccountsTests.server(root)
        defer { server.kill(signal: SIGKILL) }
        let base = server.baseURL + "/apps/accounts"
        let password = "Tangerine-Orbit-47-Quill"
        // A wrong password for an existing account vs an unknown account, median of 50 each, interleaved.
        let (status, _) = try await AccountsTests.post(
            base + "/signup", ["email": "timing@example.com", "password": password])
        try #require(status == 201)
        try await AccountsTests.answerQuestions(base, email: "timing@example.com", password: password)
        var known: [Double] = []
        var unknown: [Double] = []
        for i in 0..<50 {
            // Below the lockout: a correct sign-in every fourth attempt resets the count.
            if i % 4 == 3 {
                _ = try await AccountsTests.post(
                    base + "/signin", ["email": "timing@example.com", "password": password])
            }
            // The order alternates, so drift in the machine's load falls on both sides alike.
            for knownFirst in [i % 2 == 0, i % 2 != 0] {
                let t0 = Date()
                if knownFirst {
                    _ = try await AccountsTests.post(
                        base + "/signin", ["email": "timing@example.com", "password": "wrong-\(i)-password!"])
                    known.append(Date().timeIntervalSince(t0))
                } else {
                    _ = try await AccountsTests.post(
                        base + "/signin", ["email": "nobody-\(i)@example.com", "password": "wrong-\(i)-password!"])
                    unknown.append(Date().timeIntervalSince(t0))
                }
            }
        }
        let (mk, mu) = (known.sorted()[25], unknown.sorted()[25])
        // Also paired: each attempt against its neighbour in time, so a busy moment of the machine weighs on both
        // sides of a pair.
        let paired = zip(known, unknown).map { ($0 - $1) / max($0, $1) }.sorted()[25]
        print(
            String(
                format:
                    "accounts: sign-in with a wrong password, median %.1f ms (existing account) vs %.1f ms (unknown): %.1f %% apart; median paired difference %.1f %%",
                mk * 1_000, mu * 1_000, abs(mk - mu) / max(mk, mu) * 100, paired * 100))
        #expect(abs(paired) < 0.10, "median paired difference \(paired * 100) %")

    }
}
