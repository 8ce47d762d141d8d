import Foundation
import PlumbTesting
import Testing

@testable import PlumbNotify

/// RFC 5321 addresses at the edge, header encoding, and the SMTP client's own refusal of CR, LF and NUL.
@Suite struct EmailAddressTests {
    @Test func acceptsTheCommonMailboxes() {
        for address in [
            "a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x_y-z=1@xn--bcher-kva.de",
            "plumb@localhost",
        ] {
            #expect(EmailAddress.problem(address) == nil, "\(address): \(EmailAddress.problem(address) ?? "")")
        }
    }

    @Test func refusesInjectionsAndMalformedAddresses() {
        let cases: [(String, String)] = [
            ("a@example.com\r\nRCPT TO:<victim@evil.test>", "U+000D"),
            ("a@example.com\nDATA", "U+000A"),
            ("a@example.com\u{0}", "U+0000"),
            ("a@example.com\u{2028}x", "U+2028"),
            ("a b@example.com", "' '"),
            ("a@example.com>", "in its domain"),
            ("<a@example.com", "'<'"),
            ("\"a\"@example.com", "'\"'"),
            ("a@b@example.com", "'@'"),
            ("a@exa mple.com", "in its domain"),
            ("bob@exаmple.com", "non-ASCII"),
            ("a..b@example.com", "two dots"),
            (".a@example.com", "dot at the start"),
            ("a@example", "without a dot"),
            ("a@-example.com", "'-'"),
            ("a@1.2.3.4", "numeric"),
            ("@example.com", "nothing before"),
            ("a@", "nothing after"),
            (String(repeating: "x", count: 65) + "@example.com", "64"),
        ]
        for (address, reason) in cases {
            let problem = EmailAddress.problem(address)
            #expect(problem?.contains(reason) == true, "\(address.debugDescription): \(problem ?? "accepted")")
        }
    }

    @Test func subscriptionsNameTheFieldThatIsWrong() {
        let injected = SubscriptionDefinition(
            protocol: .email, endpoint: "ops@example.com\r\nRCPT TO:<victim@evil.test>")
        #expect(injected.problem()?.field == "endpoint")
        #expect(injected.problem()?.message.contains("U+000D") == true)
        let second = SubscriptionDefinition(protocol: .email, endpoint: "ops@example.com, victim@evil.test>")
        #expect(second.problem()?.field == "endpoint")
        #expect(SubscriptionDefinition(protocol: .email, endpoint: "ops@example.com, dev@example.com").problem() == nil)
        #expect(
            SubscriptionDefinition(protocol: .email, endpoint: "ops@example.com", secret: "0123456789abcdef").problem()?
                .field == "secret")
    }

    @Test func mailboxesParseWithDisplayNamesAndRenderSafely() throws {
        let plain = try Mailbox(parsing: "plumb@example.com")
        #expect(plain.displayName == nil && plain.header == "plumb@example.com")
        let named = try Mailbox(parsing: "Plumb Alerts <alerts@example.com>")
        #expect(named.header == "\"Plumb Alerts\" <alerts@example.com>")
        let encoded = try Mailbox(parsing: "\"Plumb Überwachung\" <alerts@example.com>")
        #expect(encoded.header.hasPrefix("=?UTF-8?B?") && encoded.header.hasSuffix(" <alerts@example.com>"))
        #expect(encoded.header.unicodeScalars.allSatisfy { $0.isASCII })
        for bad in [
            "Plumb\r\nBcc: x@evil.test <a@example.com>", "Plumb <a@example.com\r\n>", "a@example.com\nx",
            "Plumb <a@example.com> x",
        ] {
            #expect(throws: MailboxError.self, "\(bad.debugDescription)") { try Mailbox(parsing: bad) }
        }
    }

    @Test func headerValuesNeverCarryALineOfTheirOwn() {
        // Input that arrives "folded" is not trusted: its CRLF-space becomes a space.
        for value in [
            "hi\r\nBcc: victim@evil.test", "hi\r\n Bcc: victim@evil.test", "hi\u{0}Bcc: x", "hi\rBcc: x",
            "ça\r\nBcc: x",
        ] {
            let encoded = MailHeader.encoded(value)
            let lines = encoded.components(separatedBy: "\r\n")
            #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") }, "\(encoded.debugDescription)")
            #expect(!encoded.unicodeScalars.contains { $0.value == 0 || ($0.value < 32 && $0 != "\r" && $0 != "\n") })
            #expect(!lines.contains { $0.hasPrefix("Bcc:") })
        }
        let long = String(repeating: "word ", count: 60)
        #expect(MailHeader.encoded(long).components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        let mail = MailMessage(
            from: "Plumb <plumb@example.com>", to: ["a@example.com"], subject: "s", text: "x",
            messageID: "1@example.com",
            extraHeaders: [("X-Topic", "ops\r\nBcc: victim@evil.test"), ("Bad:Name", "x"), ("X-Ok", "\u{0}y")])
        let head = mail.rendered().components(separatedBy: "\r\n\r\n")[0]
        #expect(!head.contains("\r\nBcc:") && !head.contains("Bad:Name") && !head.contains("\u{0}"), "\(head)")
        #expect(head.contains("From: \"Plumb\" <plumb@example.com>"))
    }

    @Test func theClientRefusesToWriteACommandWithCRLFOrNUL() throws {
        for line in [
            "RCPT TO:<a@example.com>\r\nDATA", "RCPT TO:<a@example.com>\nDATA", "MAIL FROM:<a@example.com>\u{0}",
            "EHLO a\rb",
        ] {
            #expect(throws: SMTPError.self, "\(line.debugDescription)") { try SMTPClient.wireLine(line) }
        }
        #expect(
            try SMTPClient.wireLine("RCPT TO:<a@example.com>").readableBytes == "RCPT TO:<a@example.com>\r\n".utf8.count
        )
    }

    @Test func aMessageToAnInjectedRecipientIsRefusedBeforeTheServerHearsAnything() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await PeerProcess(
            script: "smtp_sink.py", arguments: ["--outdir", dir.path + "/mail"], logDirectory: dir.path)
        defer { sink.stop() }
        let settings = SMTPSettings(host: "127.0.0.1", port: sink.port, startTLS: .never, from: "plumb@example.com")
        let client = SMTPClient(settings: settings)
        let injected = MailMessage(
            from: "plumb@example.com", to: ["ok@example.com", "x@example.com>\r\nRCPT TO:<victim@evil.test"],
            subject: "s", text: "t",
            messageID: "i-1@example.com")
        do {
            try await client.send(injected)
            Issue.record("an injected recipient was sent to")
        } catch let error as SMTPError {
            #expect(
                !error.transient && error.message.contains("recipient") && !error.message.contains("\r"), "\(error)")
        }
        var badHelo = settings
        badHelo.heloName = "plumb.example.com\r\nRSET"
        await #expect(throws: SMTPError.self) {
            try await SMTPClient(settings: badHelo).send(
                MailMessage(
                    from: "plumb@example.com", to: ["ok@example.com"], subject: "s", text: "t",
                    messageID: "i-2@example.com"))
        }
        // A good message afterwards is the only one the server ever got.
        try await client.send(
            MailMessage(
                from: "plumb@example.com", to: ["ok@example.com"], subject: "after", text: "t",
                messageID: "i-3@example.com"))
        let received = try await SMTPClientTests.waitForMail(dir.path + "/mail")
        try await Task.sleep(for: .milliseconds(300))
        #expect(PeerRecords.jsonFiles(dir.path + "/mail").count == 1)
        #expect(
            received.first?["rcpt_tos"] as? [String] == ["ok@example.com"]
                && received.first?["subject"] as? String == "after")
    }
}
