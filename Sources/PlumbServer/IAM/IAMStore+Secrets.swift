import Foundation
import GRDB
import PlumbStore

// TOTP seeds of platform users at rest: sealed with the server's `SecretBox`, bound to the user's name.
extension IAMStore {
    static func mfaContext(_ user: String) -> String { "iam.users.mfa_secret/" + user }

    /// Seals every TOTP secret still in clear (a BLOB of the raw seed), and checks that every sealed one opens.
    static func sealSecrets(_ store: SQLiteStore, with secrets: SecretBox) throws -> Int {
        try store.scrubbing { db in
            var sealed = 0
            for row in try Row.fetchAll(db, sql: "SELECT name, mfa_secret FROM users WHERE mfa_secret IS NOT NULL") {
                let name: String = row["name"]
                let value: DatabaseValue = row["mfa_secret"]
                if case .string(let text) = value.storage, SecretBox.isSealed(text) {
                    _ = try secrets.open(text, context: mfaContext(name))
                    continue
                }
                guard case .blob(let clear) = value.storage else { continue }
                try db.execute(
                    sql: "UPDATE users SET mfa_secret = ? WHERE name = ?", arguments: [try secrets.seal(clear, context: mfaContext(name)), name])
                sealed += 1
            }
            return sealed
        }
    }

    /// The TOTP seed of a user's row (`mfa_secret`), opened.
    func mfaSecret(_ row: Row, user: String) throws -> [UInt8]? {
        let value: DatabaseValue = row["mfa_secret"]
        guard case .string(let sealed) = value.storage else { return nil }
        return try secrets.open(sealed, context: Self.mfaContext(user))
    }
}
