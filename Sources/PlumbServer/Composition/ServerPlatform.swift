import Foundation
import Logging
import PlumbAPI
import PlumbHost
import PlumbKit
import PlumbLogs
import PlumbNotify
import PlumbStore

/// The server's side of `PlatformServices`: plugins publish through the outbox, audit into `/plumb/audit` (stream
/// `plugins`), send mail with the `smtp` settings notifications use, and seal with the data directory's secrets key.
struct ServerPlatform: PlatformServices {
    let outbox: any NotificationStoring
    let logs: any LogStoring
    /// nil: no `smtp` section, so plugins cannot send mail.
    let smtp: SMTPSettings?
    let secrets: SecretBox
    let clock: @Sendable () -> Int64
    let logger: Logger

    func publish(
        topic: String, subject: String, message: String, attributes: [String: String]
    ) async throws -> String {
        do {
            return try await outbox.publish(
                topic: topic, subject: subject, message: message, attributes: attributes, now: clock())
        } catch let error as NotifyError where error.status == 404 {
            // The store checks the topic in the publish's own transaction: no second round trip first.
            throw FunctionError(status: 404, code: "NotFound", message: "no topic named '\(topic)'")
        }
    }

    func audit(_ event: AuditEvent) async {
        let entry = AuditEntry(
            time: TimeParsing.format(Int64(Date().timeIntervalSince1970)), actor: event.actor, action: event.action,
            resource: event.resource, source: event.source, result: event.result)
        await AuditMiddleware.write(logs, stream: "plugins", entry, logger: logger)
    }

    /// A plugin's address and subject are checked here too, whatever the plugin checked: a 400 naming the field
    /// rather than a mail its caller wrote.
    func sendEmail(to: String, subject: String, text: String) async throws {
        guard let smtp else {
            throw FunctionError(
                status: 503, code: "NoMailSender",
                message: "no SMTP server is configured (the `smtp` section of the config)")
        }
        if let problem = EmailAddress.problem(to) {
            throw FunctionError.badRequest("to: not an email address: it \(problem)")
        }
        guard !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw FunctionError.badRequest("subject must not hold line breaks or other control characters")
        }
        try await SMTPClient(settings: smtp).send(
            MailMessage(
                from: smtp.from, to: [to], subject: subject, text: text,
                messageID: "\(UUID().uuidString)@\(smtp.heloName)"))
    }

    func seal(_ text: String, context: String) throws -> String {
        try secrets.seal(text, context: context)
    }

    func unseal(_ sealed: String, context: String) throws -> String {
        try secrets.openText(sealed, context: context)
    }
}
