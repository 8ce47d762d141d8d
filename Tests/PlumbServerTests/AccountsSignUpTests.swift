import Foundation
import PlumbTesting
import Testing

/// Sign-up against a real server: addresses normalised as identity providers do (one mailbox, one account), NUL,
/// control characters and look-alikes refused with a 400 naming the field, and the per-source sign-up throttle.
@Suite("Accounts sign-up", .serialized)
struct AccountsSignUpTests {
    static let password = "Tangerine-Orbit-47-Quill"

    static func signUp(
        _ server: ServerProcess, _ email: String
    ) async throws -> (status: Int, headers: [String: String], body: [String: Any]) {
        let reply = try await HTTP.exchange(
            "POST", server.baseURL + "/apps/accounts/signup",
            body: Array(try JSONSerialization.data(withJSONObject: ["email": email, "password": password])))
        return (reply.status, reply.headers, json(reply.body))
    }

    static func message(_ body: [String: Any]) -> String {
        (body["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    @Test("NUL, controls and homoglyphs are refused naming 'email'; case, full-width and IDN forms are one identity")
    func identities() async throws {
        let root = TemporaryDirectory("plumb-signup")
        defer { root.remove() }
        try "plugins:\n  accounts: {scrypt_n: 1024, signups_per_hour_per_source: 100}\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        for (email, reason) in [
            ("ana@example.com\u{0}", "U+0000"),
            ("ana\u{0}@example.com", "U+0000"),
            ("ana@example.com\u{7}", "U+0007"),
            ("an\u{200B}a@example.com", "U+200B"),
            ("аna@example.com", "mixes scripts"),  // Cyrillic а
            ("ana@exаmple.com", "mixes scripts"),  // Cyrillic а in the domain
            ("ana@аррӏе.com", "look like Latin 'apple'"),  // all Cyrillic
            ("ana@xn--80ak6aa92e.com", "look like Latin 'apple'"),  // the same, as its A-label
        ] {
            let (status, _, body) = try await Self.signUp(server, email)
            let message = Self.message(body)
            #expect(
                status == 400 && message.hasPrefix("'email'") && message.contains(reason),
                "\(email.debugDescription): \(status) \(message)")
        }
        var (status, _, body) = try await Self.signUp(server, "Ana@Example.com")
        #expect(status == 201, "\(body)")
        for same in ["ana@example.com", "ＡＮＡ@ＥＸＡＭＰＬＥ.ＣＯＭ", " ana@EXAMPLE.com "] {
            (status, _, body) = try await Self.signUp(server, same)
            #expect(status == 409, "\(same): \(status) \(body)")
        }
        (status, _, body) = try await Self.signUp(server, "bo@bücher.de")
        #expect(status == 201, "\(body)")
        (status, _, _) = try await Self.signUp(server, "bo@xn--bcher-kva.de")
        #expect(status == 409, "the A-label form is the same identity")
        // Sign-in normalises the same way; it waits for the second phase of sign-up (the security questions).
        (status, _) = try await AccountsTests.post(
            server.baseURL + "/apps/accounts/signin", ["email": "BO@BÜCHER.DE", "password": Self.password])
        #expect(status == 403, "an account without security questions cannot sign in yet")
        try await AccountsTests.answerQuestions(
            server.baseURL + "/apps/accounts", email: "bo@bücher.de", password: Self.password)
        (status, _) = try await AccountsTests.post(
            server.baseURL + "/apps/accounts/signin", ["email": "BO@BÜCHER.DE", "password": Self.password])
        #expect(status == 200)
    }

    @Test("the fourth sign-up from one address within the hour is a 429 with Retry-After")
    func throttle() async throws {
        let root = TemporaryDirectory("plumb-signup-throttle")
        defer { root.remove() }
        try "plugins:\n  accounts: {scrypt_n: 1024, signups_per_hour_per_source: 3}\n".write(
            toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        // Refused attempts count too: an address cannot probe without limit.
        var (status, headers, body) = try await Self.signUp(server, "not-an-address")
        #expect(status == 400)
        for i in 1...2 {
            (status, _, body) = try await Self.signUp(server, "user\(i)@example.com")
            #expect(status == 201, "\(body)")
        }
        (status, headers, body) = try await Self.signUp(server, "user3@example.com")
        #expect(
            status == 429 && (body["error"] as? [String: Any])?["code"] as? String == "TooManyRequests",
            "\(status) \(body)")
        let retryAfter = try #require(Int(headers["retry-after"] ?? ""), "\(headers)")
        #expect((3_500...3_600).contains(retryAfter), "Retry-After \(retryAfter)")
        // Sign-in has its own throttle and is not affected (the 403 says the account exists and must finish signing up).
        let (signin, refusal) = try await AccountsTests.post(
            server.baseURL + "/apps/accounts/signin", ["email": "user1@example.com", "password": Self.password])
        #expect(
            signin == 403 && (refusal["error"] as? [String: Any])?["code"] as? String == "SignUpIncomplete",
            "\(refusal)")
    }
}
