import Foundation
import GRDB
import PlumbStore

// TOTP seeds of platform users at rest: sealed with the server's `SecretBox`, bound to the user's name.
extension IAMStore {
    /// Seals every TOTP secret still in clear (a BLOB of the raw seed), and checks that every sealed one opens.
    static func sealSecrets(_ store: SQLiteStore, with secrets: SecretBox) throws -> Int {
        try store.scrubbing { db in
            try secrets.sealColumn(db, table: "users", key: "name", column: "mfa_secret", context: IAM.mfaContext)
        }
    }
}
