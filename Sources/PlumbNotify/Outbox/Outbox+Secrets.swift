import GRDB
import PlumbStore

// Webhook signing secrets at rest: sealed with the server's `SecretBox`, bound to their subscription's id.
extension Outbox {
    static func secretContext(_ subscriptionID: String) -> String { "notify.subscriptions.secret/" + subscriptionID }

    /// Seals every secret still in clear, and checks that every sealed one opens (a wrong key is found at start,
    /// not at the first delivery).
    static func sealSecrets(_ database: SQLiteStore, with secrets: SecretBox) throws -> Int {
        try database.scrubbing { db in
            var sealed = 0
            for row in try Row.fetchAll(db, sql: "SELECT id, secret FROM subscriptions WHERE secret IS NOT NULL") {
                let id: String = row["id"], secret: String = row["secret"]
                if SecretBox.isSealed(secret) {
                    _ = try secrets.open(secret, context: secretContext(id))
                    continue
                }
                try db.execute(
                    sql: "UPDATE subscriptions SET secret = ? WHERE id = ?", arguments: [try secrets.seal(secret, context: secretContext(id)), id])
                sealed += 1
            }
            return sealed
        }
    }
}
