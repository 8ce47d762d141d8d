import GRDB
import PlumbStore

// Webhook signing secrets at rest: sealed with the server's `SecretBox`, bound to their subscription's id.
extension Outbox {
    package static func secretContext(_ subscriptionID: String) -> String {
        "notify.subscriptions.secret/" + subscriptionID
    }

    /// Seals every secret still in clear, and checks that every sealed one opens (a wrong key is found at start,
    /// not at the first delivery).
    static func sealSecrets(_ database: SQLiteStore, with secrets: SecretBox) throws -> Int {
        try database.scrubbing { db in
            try secrets.sealColumn(db, table: "subscriptions", key: "id", column: "secret", context: secretContext)
        }
    }
}
