import Foundation
import PlumbNotify
import PlumbTesting
import Testing

/// The SMTP client against a real SMTP server (Python's aiosmtpd, Tests/peers/smtp_sink.py), which parses every
/// accepted message with Python's email package.
@Suite(.serialized) struct SMTPClientTests {
    static func mail(to: [String] = ["oncall@example.com", "second@example.com"]) -> MailMessage {
        MailMessage(
            from: "Plumb <plumb@example.com>", to: to, subject: "ALARM: \"latência\" ↑ in Plumb",
            text: "first line\n.a line that starts with a dot\n..and two\nlast line — ünïcode\n",
            html: "<p>first line</p>\n.<b>dot</b>", messageID: "m-1@plumb.test",
            extraHeaders: [("X-Plumb-Message-Id", "m-1")])
    }

    static func certificate(in directory: String) async throws -> (cert: String, key: String) {
        let cert = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let openssl = try await CLI.runProgram(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        guard openssl.status == 0 else { throw TestFailure("openssl failed: \(openssl.output)") }
        return (cert, key)
    }

    static func waitForMail(_ directory: String, count: Int = 1) async throws -> [[String: Any]] {
        try await waitFor("mail in \(directory)", timeout: .seconds(5), every: .milliseconds(100)) {
            let files = PeerRecords.jsonFiles(directory)
            return files.count >= count ? files : nil
        }
    }

    @Test func deliversMultipartMailWithDotStuffingAndEncodedSubject() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", dir.path + "/mail"], logDirectory: dir.path)
        defer { sink.stop() }
        try await SMTPClient(
            settings: SMTPSettings(host: "127.0.0.1", port: sink.port, startTLS: .never, from: "plumb@example.com")
        ).send(Self.mail())
        let received = try #require(try await Self.waitForMail(dir.path + "/mail").first)
        #expect(received["subject"] as? String == "ALARM: \"latência\" ↑ in Plumb")
        #expect(received["rcpt_tos"] as? [String] == ["oncall@example.com", "second@example.com"])
        #expect(received["mail_from"] as? String == "plumb@example.com")
        #expect(received["message_id"] as? String == "<m-1@plumb.test>")
        #expect(received["date_parsed"] as? Bool == true)
        #expect((received["defects"] as? [Any])?.isEmpty == true)
        let parts = try #require(received["parts"] as? [String: String])
        #expect(parts["text/plain"] == "first line\n.a line that starts with a dot\n..and two\nlast line — ünïcode\n")
        #expect(parts["text/html"] == "<p>first line</p>\n.<b>dot</b>")
        #expect(received["tls"] as? Bool == false)
    }

    @Test func upgradesWithStartTLSAndAuthenticates() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (cert, key) = try await Self.certificate(in: dir.path)
        let sink = try await PeerProcess(
            script: "smtp_sink.py",
            arguments: [
                "--outdir", dir.path + "/mail", "--cert", cert, "--key", key, "--require-starttls", "--auth",
                "alerts:s3cret-pass",
            ],
            logDirectory: dir.path)
        defer { sink.stop() }
        var settings = SMTPSettings(
            host: "localhost", port: sink.port, startTLS: .required, username: "alerts", password: "s3cret-pass",
            from: "plumb@example.com", caFile: cert)
        try await SMTPClient(settings: settings).send(Self.mail(to: ["oncall@example.com"]))
        let received = try #require(try await Self.waitForMail(dir.path + "/mail").first)
        #expect(received["tls"] as? Bool == true)
        #expect(received["auth"] as? String == "alerts")

        // A wrong password is refused for good (5xx: not worth retrying).
        settings.password = "wrong"
        do {
            try await SMTPClient(settings: settings).send(Self.mail())
            Issue.record("a wrong password was accepted")
        } catch let error as SMTPError {
            #expect(error.code == 535)
            #expect(!error.transient)
        }

        // Without the CA the self-signed certificate is not trusted.
        settings.password = "s3cret-pass"
        settings.caFile = nil
        do {
            try await SMTPClient(settings: settings).send(Self.mail())
            Issue.record("an untrusted certificate was accepted")
        } catch let error as SMTPError {
            #expect(error.message.contains("TLS") || error.message.contains("connection"), "\(error)")
        }
    }

    @Test func refusesCredentialsWithoutTLSAndReportsRequiredStartTLS() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", dir.path + "/mail"], logDirectory: dir.path)
        defer { sink.stop() }
        do {
            try await SMTPClient(
                settings: SMTPSettings(
                    host: "127.0.0.1", port: sink.port, startTLS: .required, from: "plumb@example.com")
            ).send(Self.mail())
            Issue.record("sent without the required STARTTLS")
        } catch let error as SMTPError {
            #expect(error.message.contains("STARTTLS"))
            #expect(!error.transient)
        }
        do {
            try await SMTPClient(
                settings: SMTPSettings(
                    host: "127.0.0.1", port: sink.port, startTLS: .auto, username: "u", password: "p",
                    from: "plumb@example.com")
            ).send(Self.mail())
            Issue.record("sent credentials in clear")
        } catch let error as SMTPError {
            #expect(error.message.contains("without TLS"))
        }
        #expect(PeerRecords.jsonFiles(dir.path + "/mail").isEmpty)
    }

    @Test func aServerThatIsDownIsATransientError() async throws {
        do {
            try await SMTPClient(
                settings: SMTPSettings(host: "127.0.0.1", port: ServerProcess.freePort(), from: "plumb@example.com")
            ).send(Self.mail())
            Issue.record("sent to a closed port")
        } catch let error as SMTPError {
            #expect(error.transient)
        }
    }
}
