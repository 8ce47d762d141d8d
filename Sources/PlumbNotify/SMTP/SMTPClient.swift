import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A small SMTP client on SwiftNIO (RFC 5321): EHLO (HELO fallback), STARTTLS, AUTH PLAIN/LOGIN, MAIL FROM,
/// RCPT TO for each recipient, DATA with dot-stuffing, QUIT. One connection per message.
///
/// Defence in depth against command injection: the sender, every recipient and the EHLO name are checked again
/// here (`EmailAddress`), and no command line holding CR, LF or NUL is ever written, whatever the callers checked.
public struct SMTPClient: Sendable {
    public let settings: SMTPSettings

    public init(settings: SMTPSettings) { self.settings = settings }

    /// Sends `mail`; throws `SMTPError` saying whether a retry could help.
    public func send(_ mail: MailMessage) async throws {
        guard !mail.to.isEmpty else { throw SMTPError(code: nil, "no recipients", transient: false) }
        try Self.check(mail, settings: settings)
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError(code: nil, "cannot connect to \(settings.host):\(settings.port): \(error)", transient: true)
        }
        let timeout = settings.timeout
        let raw = channel.channel
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var session = Session(
                        settings: settings, channel: raw, replies: inbound.makeAsyncIterator(), outbound: outbound)
                    try await session.run(mail)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                raw.close(promise: nil)
                throw SMTPError(
                    code: nil, "no answer from \(settings.host):\(settings.port) within \(Int(timeout)) s",
                    transient: true)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Refuses, before connecting, a message whose sender, recipients or EHLO name could not be written safely.
    static func check(_ mail: MailMessage, settings: SMTPSettings) throws {
        for (role, address) in [("sender", settings.from)] + mail.to.map({ ("recipient", $0) }) {
            let bare = EmailAddress.bare(address)
            if let problem = EmailAddress.problem(bare) {
                throw SMTPError(
                    code: nil, "refusing to send: the \(role) '\(Self.printable(bare))' \(problem)", transient: false)
            }
        }
        if let problem = EmailAddress.heloProblem(settings.heloName) {
            throw SMTPError(
                code: nil, "refusing to send: the EHLO name '\(Self.printable(settings.heloName))' \(problem)",
                transient: false)
        }
    }

    /// Text for an error message with control characters shown as `\u{…}` (never raw line breaks in a log line).
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { EmailAddress.isControl($0) ? "\\u{\(String($0.value, radix: 16))}" : String($0) }
            .joined()
    }

    /// A command line as written: the text and CRLF. A CR, LF or NUL inside the text would end the command early
    /// and start one the caller never meant (`RCPT TO:<a@b>\r\nDATA…`), so it is refused, never escaped.
    static func wireLine(_ line: String, redacted: String? = nil) throws -> ByteBuffer {
        guard !line.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
            throw SMTPError(
                code: nil, "refusing to write an SMTP command holding CR, LF or NUL: \(redacted ?? printable(line))",
                transient: false)
        }
        return ByteBuffer(string: line + "\r\n")
    }

    /// One conversation.
    struct Session {
        let settings: SMTPSettings
        let channel: any Channel
        var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        var secure = false

        mutating func run(_ mail: MailMessage) async throws {
            try expect(try await read(), 220, "greeting")
            var extensions = try await hello()
            if settings.startTLS != .never {
                if extensions.keys.contains("STARTTLS") {
                    try expect(try await command("STARTTLS"), 220, "STARTTLS")
                    try await startTLS()
                    extensions = try await hello()
                } else if settings.startTLS == .required {
                    throw SMTPError(
                        code: nil,
                        "\(settings.host) does not offer STARTTLS (it offers \(extensions.keys.sorted().joined(separator: " "))) and smtp.starttls is required",
                        transient: false)
                }
            }
            if let username = settings.username {
                try await authenticate(
                    username: username, password: settings.password ?? "", mechanisms: extensions["AUTH"] ?? [])
            }
            try expect(try await command("MAIL FROM:<\(Self.address(settings.from))>"), 250, "MAIL FROM")
            var accepted = 0
            var refusals: [String] = []
            for recipient in mail.to {
                let reply = try await command("RCPT TO:<\(Self.address(recipient))>")
                if reply.code == 250 || reply.code == 251 {
                    accepted += 1
                } else {
                    refusals.append("\(recipient): \(reply.code) \(reply.text)")
                }
            }
            guard accepted > 0 else {
                let transient = refusals.allSatisfy { $0.contains(": 4") }
                throw SMTPError(
                    code: nil, "every recipient was refused (\(refusals.joined(separator: "; ")))", transient: transient
                )
            }
            try expect(try await command("DATA"), 354, "DATA")
            let data = MailMessage.dotStuffed(mail.rendered())
            guard !data.utf8.contains(0) else {
                throw SMTPError(code: nil, "refusing to send a message holding NUL", transient: false)
            }
            try await outbound.write(ByteBuffer(string: data))
            try expect(try await read(), 250, "end of DATA")
            _ = try? await command("QUIT")
        }

        /// EHLO, falling back to HELO; returns the extensions (keyword → parameters).
        mutating func hello() async throws -> [String: [String]] {
            let reply = try await command("EHLO \(settings.heloName)")
            if reply.code == 250 {
                var out: [String: [String]] = [:]
                for line in reply.lines.dropFirst() {
                    let words = line.split(separator: " ").map { String($0).uppercased() }
                    if let key = words.first { out[key] = Array(words.dropFirst()) }
                }
                return out
            }
            try expect(try await command("HELO \(settings.heloName)"), 250, "HELO")
            return [:]
        }

        mutating func startTLS() async throws {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let ca = settings.caFile { configuration.trustRoots = .file(ca) }
            if !settings.verifyCertificate { configuration.certificateVerification = .none }
            let isAddress = settings.host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
            do {
                let context = try NIOSSLContext(configuration: configuration)
                let hostname = isAddress ? nil : settings.host
                let channel = self.channel
                try await channel.eventLoop.submit {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: hostname)
                    try channel.pipeline.syncOperations.addHandler(handler, position: .first)
                }.get()
            } catch {
                throw SMTPError(code: nil, "TLS setup failed: \(error)", transient: false)
            }
            secure = true
        }

        mutating func authenticate(username: String, password: String, mechanisms: [String]) async throws {
            guard secure || settings.allowPlaintextAuth else {
                throw SMTPError(
                    code: nil, "refusing to send credentials without TLS (the server did not offer STARTTLS)",
                    transient: false)
            }
            if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                let token = Data("\u{0}\(username)\u{0}\(password)".utf8).base64EncodedString()
                try expect(try await command("AUTH PLAIN \(token)", redacted: "AUTH PLAIN ***"), 235, "AUTH PLAIN")
            } else {
                try expect(try await command("AUTH LOGIN"), 334, "AUTH LOGIN")
                try expect(
                    try await command(Data(username.utf8).base64EncodedString(), redacted: "***"), 334,
                    "AUTH LOGIN user")
                try expect(
                    try await command(Data(password.utf8).base64EncodedString(), redacted: "***"), 235,
                    "AUTH LOGIN password")
            }
        }

        mutating func command(_ line: String, redacted: String? = nil) async throws -> SMTPReply {
            let bytes = try SMTPClient.wireLine(line, redacted: redacted)
            do {
                try await outbound.write(bytes)
            } catch {
                throw SMTPError(
                    code: nil, "connection lost sending \(redacted ?? line.prefix(20).description): \(error)",
                    transient: true)
            }
            return try await read()
        }

        mutating func read() async throws -> SMTPReply {
            do {
                guard let reply = try await replies.next() else {
                    throw SMTPError(code: nil, "the server closed the connection", transient: true)
                }
                return reply
            } catch let error as SMTPError {
                throw error
            } catch {
                throw SMTPError(code: nil, "connection error: \(error)", transient: true)
            }
        }

        func expect(_ reply: SMTPReply, _ code: Int, _ step: String) throws {
            guard reply.code == code else {
                throw SMTPError(code: reply.code, "\(step): \(reply.text)", transient: (400..<500).contains(reply.code))
            }
        }

        static func address(_ text: String) -> String { EmailAddress.bare(text) }
    }
}
