import Foundation
import GRDB
import PlumbStore

// TOTP seeds of platform users at rest: sealed with the server's `SecretBox`, bound to the user's name.
extension IAMStore {
    static func mfaContext(_ user: String) -> String { "iam.users.mfa_secret/" + user }

    /// Seals every TOTP secret still in clear (a BLOB of the raw seed), and checks that every sealed one opens.
    static func sealSecrets(_ store: SQLiteStore, with secrets: SecretBox) throws -> Int {
        try store.scrubbing { db in
            try secrets.sealColumn(db, table: "users", key: "name", column: "mfa_secret", context: mfaContext)
        }
    }

    /// The TOTP seed of a user's row (`mfa_secret`), opened.
    func mfaSecret(_ row: Row, user: String) throws -> [UInt8]? {
        let value: DatabaseValue = row["mfa_secret"]
        guard case .string(let sealed) = value.storage else { return nil }
        return try secrets.open(sealed, context: Self.mfaContext(user))
    }
}
