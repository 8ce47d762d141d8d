import Foundation
import PlumbTesting
import Testing

/// Email ownership and password recovery through a real SMTP server: the confirmation link, a reset with the
/// security questions, wrong answers, and the old sessions signed out.
@Suite("AccountsEmail", .serialized)
struct AccountsEmailTests {
    static func mails(_ directory: String) -> [[String: Any]] { PeerRecords.jsonFiles(directory) }

    static func text(_ mail: [String: Any]) -> String {
        (mail["parts"] as? [String: Any])?["text/plain"] as? String ?? ""
    }

    @Test(
        "confirmation link, reset with answers and the emailed code, sessions revoked; unknown addresses get the same answer"
    )
    func confirmAndReset() async throws {
        let root = TemporaryDirectory("plumb-accounts-mail")
        defer { root.remove() }
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", root.path + "/mail"], logDirectory: root.path)
        defer { smtp.stop() }
        try """
        smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: plumb@example.com}
        plugins:
          accounts: {scrypt_n: 1024}
        """.write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let base = server.baseURL + "/apps/accounts"
        let password = "Tangerine-Orbit-47-Quill"
        var (status, answer) = try await AccountsTests.post(
            base + "/signup", ["email": "bo@example.com", "password": password])
        #expect(status == 201 && answer["confirmation"] as? String == "sent", "\(answer)")
        let questions = answer["questions"] as? [String] ?? []
        (status, _) = try await AccountsTests.post(
            base + "/security-questions",
            [
                "email": "bo@example.com", "password": password,
                "answers": [
                    ["question": questions[1], "answer": "Lisbon"],
                    ["question": questions[4], "answer": "Rua  das Flores!"],
                ],
            ])
        #expect(status == 200)
        try await waitUntil("the confirmation email", timeout: .seconds(10), every: .milliseconds(200)) {
            !Self.mails(root.path + "/mail").isEmpty
        }
        let confirmation = try #require(Self.mails(root.path + "/mail").first)
        #expect(
            confirmation["subject"] as? String == "Confirm your email address"
                && (confirmation["rcpt_tos"] as? [String]) == ["bo@example.com"])
        let link = try #require(
            Self.text(confirmation).split(whereSeparator: { $0.isWhitespace }).first { $0.contains("/confirm?") }.map(
                String.init))
        let query = try #require(link.split(separator: "?").last)
        // A changed byte is refused; the link as sent confirms.
        #expect(
            try await HTTP.request(
                "GET", base + "/confirm?" + query.replacingOccurrences(of: "signature=", with: "signature=0")
            ).0 == 403)
        // The link is followed as mailed: it must open on this server's address (it named 127.0.0.1:9400 before).
        #expect(link.hasPrefix(base + "/confirm?"), "\(link)")
        let (confirmed, confirmBody) = try await HTTP.request("GET", link)
        #expect(confirmed == 200, "\(String(decoding: confirmBody, as: UTF8.self))")

        (_, answer) = try await AccountsTests.post(base + "/signin", ["email": "bo@example.com", "password": password])
        let oldRefresh = try #require(answer["refresh_token"] as? String)
        // Reset: the same 202 for a known and an unknown address; only the known one gets mail.
        (status, answer) = try await AccountsTests.post(base + "/reset/start", ["email": "bo@example.com"])
        let (unknownStatus, unknownAnswer) = try await AccountsTests.post(
            base + "/reset/start", ["email": "nobody@example.com"])
        #expect(status == 202 && unknownStatus == 202 && NSDictionary(dictionary: answer).isEqual(to: unknownAnswer))
        try await waitUntil("the reset email", timeout: .seconds(10), every: .milliseconds(200)) {
            Self.mails(root.path + "/mail").count >= 2
        }
        try await Task.sleep(for: .seconds(1))
        #expect(Self.mails(root.path + "/mail").count == 2, "no mail for an unknown address")
        let reset = try #require(
            Self.mails(root.path + "/mail").first { $0["subject"] as? String == "Reset your password" })
        let code = try #require(
            Self.text(reset).split(whereSeparator: { $0.isWhitespace }).first { $0.hasPrefix("rs_") }.map(String.init))
        let newPassword = "Marmalade-Vector-91-Kite"
        (status, answer) = try await AccountsTests.post(
            base + "/reset/finish",
            [
                "token": code, "password": newPassword,
                "answers": [
                    ["question": questions[1], "answer": "lisbon"],
                    ["question": questions[4], "answer": "Rua das Ruas"],
                ],
            ])
        #expect(status == 403 && (answer["error"] as? [String: Any])?["code"] as? String == "WrongAnswers", "\(answer)")
        (status, answer) = try await AccountsTests.post(
            base + "/reset/finish",
            [
                "token": code, "password": newPassword,
                "answers": [
                    ["question": questions[1], "answer": " LISBON "],
                    ["question": questions[4], "answer": "rua das flores"],
                ],
            ])
        #expect(status == 200, "\(answer)")
        #expect(
            try await AccountsTests.post(base + "/signin", ["email": "bo@example.com", "password": password]).0 == 401)
        #expect(
            try await AccountsTests.post(base + "/signin", ["email": "bo@example.com", "password": newPassword]).0
                == 200)
        #expect(
            try await AccountsTests.post(base + "/refresh", ["refresh_token": oldRefresh]).0 == 401,
            "sessions are signed out")
        #expect(
            try await AccountsTests.post(
                base + "/reset/finish", ["token": code, "password": "Another-Long-Phrase-77", "answers": []]
            ).0 == 403, "a code works once")
    }
}
