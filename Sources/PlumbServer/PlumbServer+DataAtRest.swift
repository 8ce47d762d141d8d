import Foundation
import Logging
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

}
