import Foundation
import PlumbTesting
import Testing

/// SMTP command injection, end to end: a real `plumb serve` sending through a real SMTP server (aiosmtpd). Addresses
/// with CR, LF or NUL, through every edge that reaches SMTP (the unauthenticated accounts sign-up and reset, a topic
/// subscription, an alert file, a published subject), are refused with a 400 naming the field, and the SMTP server
/// receives exactly the messages meant: their number and their recipients.
@Suite("SMTP injection", .serialized)
struct SMTPInjectionTests {
    static let injections = [
        "mallory@example.com\r\nDATA\r\nFrom: plumb@example.com\r\nSubject: reset your password\r\n\r\nhttp://evil.test\r\n.\r\nQUIT",
        "mallory@example.com>\r\nRCPT TO:<victim@evil.test",
        "mallory@example.com\nRCPT TO:<victim@evil.test>",
        "mallory@example.com\rRCPT TO:<victim@evil.test>",
        "mallory@example.com\u{0}RCPT TO:<victim@evil.test>",
        "Mallory <mallory@example.com>, victim@evil.test",
    ]

    static func error(_ body: [UInt8]) -> (code: String, message: String) {
        let error = json(body)["error"] as? [String: Any] ?? [:]
        return (error["code"] as? String ?? "", error["message"] as? String ?? "")
    }

    @Test(
        "injected addresses are refused at every edge with a 400 naming the field; the server gets exactly the mail meant"
    )
    func injectionsAreRefused() async throws {
        let root = TemporaryDirectory("plumb-smtp-injection")
        defer { root.remove() }
        let mailDirectory = root.path + "/mail"
        let smtp = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", mailDirectory], logDirectory: root.path)
        defer { smtp.stop() }
        try AlarmNotificationTests.write(
            """
            topics:
              - name: ops
                subscriptions:
                  - {protocol: email, endpoint: oncall@example.com}
            """, to: root.path + "/alerts/ops.yaml")
        try AlarmNotificationTests.write(
            """
            alerts: \(root.path)/alerts
            smtp: {host: 127.0.0.1, port: \(smtp.port), starttls: never, from: "Plumb <plumb@example.com>"}
            plugins:
              accounts: {scrypt_n: 1024, signups_per_hour_per_source: 100}
            """, to: root.path + "/plumb.yaml")
        let server = try ServerProcess(
            dataDirectory: root.path + "/data", extraArguments: ["--config", root.path + "/plumb.yaml"])
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let (token, api) = (server.token, server.baseURL + "/api/v1")
        let password = "Tangerine-Orbit-47-Quill"

        // 1. The unauthenticated sign-up: every injected "email" is a 400 that names the field.
        for email in Self.injections {
            let (status, body) = try await HTTP.request(
                "POST", server.baseURL + "/apps/accounts/signup",
                body: Array(try JSONSerialization.data(withJSONObject: ["email": email, "password": password])))
            let error = Self.error(body)
            #expect(
                status == 400 && error.message.hasPrefix("'email'"), "\(email.debugDescription): \(status) \(error)")
        }
        var (status, body) = try await HTTP.request(
            "POST", server.baseURL + "/apps/accounts/signup",
            body: Array(
                try JSONSerialization.data(withJSONObject: ["email": "carol@example.com", "password": password])))
        #expect(
            status == 201 && json(body)["confirmation"] as? String == "sent", "\(String(decoding: body, as: UTF8.self))"
        )

        // The password reset, which mails the address it is given, refuses them alike.
        for email in Self.injections {
            (status, body) = try await HTTP.request(
                "POST", server.baseURL + "/apps/accounts/reset/start",
                body: Array(try JSONSerialization.data(withJSONObject: ["email": email])))
            #expect(
                status == 400 && Self.error(body).message.hasPrefix("'email'"),
                "reset \(email.debugDescription): \(status) \(Self.error(body))")
        }

        // 2. A topic subscription through the API: the endpoint is named.
        (status, _) = try await HTTP.request(
            "POST", api + "/topics", body: Array(#"{"name": "api-topic"}"#.utf8), token: token)
        #expect(status == 201)
        for endpoint in Self.injections {
            (status, body) = try await HTTP.request(
                "POST", api + "/topics/api-topic/subscriptions",
                body: Array(try JSONSerialization.data(withJSONObject: ["protocol": "email", "endpoint": endpoint])),
                token: token)
            let error = Self.error(body)
            #expect(
                status == 400 && error.message.hasPrefix("endpoint:"),
                "\(endpoint.debugDescription): \(status) \(error)")
        }
        (status, body) = try await HTTP.request(
            "POST", api + "/topics/api-topic/subscriptions",
            body: Array(#"{"protocol": "email", "endpoint": "dev@example.com"}"#.utf8), token: token)
        #expect(status == 201, "\(String(decoding: body, as: UTF8.self))")

        // 3. An alert file: the reload is refused, naming file, line and field; the previous topics stay.
        try AlarmNotificationTests.write(
            """
            topics:
              - name: sneaky
                subscriptions:
                  - {protocol: email, endpoint: "ops@example.com\\r\\nRCPT TO:<victim@evil.test>"}
            """, to: root.path + "/alerts/sneaky.yaml")
        (status, body) = try await HTTP.request("POST", api + "/alarms/reload", token: token)
        let problems = json(body)["errors"] as? [[String: Any]] ?? []
        #expect(
            status == 400
                && problems.contains {
                    ($0["field"] as? String ?? "").hasSuffix("endpoint")
                        && ($0["file"] as? String ?? "").hasSuffix("sneaky.yaml")
                },
            "\(String(decoding: body, as: UTF8.self))")
        try FileManager.default.removeItem(atPath: root.path + "/alerts/sneaky.yaml")

        // 4. A published subject becomes a header: NUL and line breaks are refused, naming the subject.
        for subject in ["Disk full\u{0}", "Disk full\r\nBcc: victim@evil.test"] {
            (status, body) = try await HTTP.request(
                "POST", api + "/topics/ops/publish",
                body: Array(try JSONSerialization.data(withJSONObject: ["subject": subject, "message": "m"])),
                token: token)
            #expect(
                status == 400 && Self.error(body).message.hasPrefix("subject"),
                "\(subject.debugDescription): \(Self.error(body))")
        }
        (status, _) = try await HTTP.request(
            "POST", api + "/topics/ops/publish",
            body: Array(#"{"subject": "Disk full on db-1", "message": "95 %"}"#.utf8), token: token)
        #expect(status == 200)

        // Exactly three messages: the sign-up's confirmation, the subscription's confirmation, the notification.
        try await waitUntil("three mails", timeout: .seconds(20), every: .milliseconds(200)) {
            PeerRecords.jsonFiles(mailDirectory).count >= 3
        }
        try await Task.sleep(for: .seconds(2))
        let mails = PeerRecords.jsonFiles(mailDirectory)
        #expect(mails.count == 3, "\(mails.map { $0["rcpt_tos"] ?? "" })")
        print(
            "smtp injection: \(Self.injections.count * 3 + 3) injected requests refused (sign-up, reset, subscription, alert file, subjects), \(mails.count) mails received"
        )
        let recipients = mails.compactMap { $0["rcpt_tos"] as? [String] }.sorted { $0.description < $1.description }
        #expect(recipients == [["carol@example.com"], ["dev@example.com"], ["oncall@example.com"]], "\(recipients)")
        #expect(
            mails.allSatisfy {
                $0["mail_from"] as? String == "plumb@example.com" && ($0["defects"] as? [Any])?.isEmpty == true
            })
        let subjects = Set(mails.compactMap { $0["subject"] as? String })
        #expect(
            subjects.contains("Confirm your email address") && subjects.contains { $0.contains("Disk full on db-1") },
            "\(subjects)")
        let raw = ((try? FileManager.default.contentsOfDirectory(atPath: mailDirectory)) ?? []).filter {
            $0.hasSuffix(".eml")
        }
        .compactMap { try? String(contentsOfFile: mailDirectory + "/" + $0, encoding: .utf8) }
        #expect(raw.count == 3 && !raw.contains { $0.contains("evil.test") || $0.contains("mallory") })
    }

    @Test("smtp.from and smtp.helo with a line break stop the server at start, naming the key")
    func configIsChecked() async throws {
        let root = TemporaryDirectory("plumb-smtp-config")
        defer { root.remove() }
        for (section, key) in [
            ("{host: 127.0.0.1, from: \"plumb@example.com\\r\\nRCPT TO:<victim@evil.test>\"}", "smtp.from"),
            ("{host: 127.0.0.1, from: \"Plumb\\r\\nBcc: victim@evil.test <plumb@example.com>\"}", "smtp.from"),
            ("{host: 127.0.0.1, from: plumb@example.com, helo: \"plumb.example.com\\r\\nRSET\"}", "smtp.helo"),
        ] {
            try "smtp: \(section)\n".write(toFile: root.path + "/plumb.yaml", atomically: true, encoding: .utf8)
            let outcome = try await CLI.run([
                "serve", "--config", root.path + "/plumb.yaml", "--data", root.path + "/data", "--listen",
                "127.0.0.1:0",
            ])
            #expect(outcome.status != 0 && outcome.output.contains(key), "\(section): \(outcome.output)")
        }
    }
}
