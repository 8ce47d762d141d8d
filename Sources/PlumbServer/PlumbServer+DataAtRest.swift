import Foundation
import Logging
import PlumbKit
import PlumbNotify
import PlumbStore

extension PlumbServer {
    /// Makes the data directory the owner's alone and loads the secrets key.
    ///
    /// It holds webhook secrets, confirmation tokens, TOTP seeds, password hashes and signing keys. The process's
    /// umask becomes 077 before anything is created, so every new file is 0600 and every directory 0700 (whoever
    /// creates it: SQLite, a plugin, the log archive); what an older version or a `cp -r` left readable by others is
    /// tightened here, at every start, with one log line saying how much.
    static func secureDataDirectory(_ directory: String, config: ServerConfig, logger: Logger) throws -> SecretBox {
        umask(0o077)
        do {
            let tightening = try DataDirectory.secure(directory)
            logger.info(
                "data directory is owner-only (0700, files 0600): \(tightening.tightened) of \(tightening.examined) files and directories tightened",
                metadata: ["directory": "\(directory)", "tightened": "\(tightening.tightened)"])
            return try SecretBox.load(dataDirectory: directory, environmentVariable: config.secretsKeyEnv)
        } catch let error as StoreError {
            throw ConfigError(error.message)
        }
    }

    /// The sender plugins' mail goes through (account confirmation, password reset). A plugin's address and subject
    /// are checked here too, whatever the plugin checked: a 400 naming the field rather than a mail its caller wrote.
    static func pluginMailer(_ smtp: SMTPSettings) -> @Sendable (String, String, String) async throws -> Void {
        let client = SMTPClient(settings: smtp)
        return { to, subject, text in
            if let problem = EmailAddress.problem(to) {
                throw FunctionError.badRequest("to: not an email address: it \(problem)")
            }
            guard !subject.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw FunctionError.badRequest("subject must not hold line breaks or other control characters")
            }
            try await client.send(
                MailMessage(from: smtp.from, to: [to], subject: subject, text: text, messageID: "\(UUID().uuidString)@\(smtp.heloName)"))
        }
    }
}
