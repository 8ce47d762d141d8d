import Crypto
import Foundation
import GRDB
import PlumbNotify
import PlumbStore
import PlumbTesting
import Testing

/// Webhook secrets in `notify.sqlite`: sealed on the way in, opened on the way out, bound to their row, and a key
/// that does not open them stops the outbox from opening at all.
@Suite struct SealedSecretTests {
    let now: Int64 = 1_795_341_600

    static func storedSecret(_ dir: String, _ id: String) throws -> String? {
        let db = try DatabaseQueue(path: dir + "/notify.sqlite")
        return try db.read {
            try String.fetchOne($0, sql: "SELECT secret FROM subscriptions WHERE id = ?", arguments: [id])
        }
    }

    @Test func secretsAreSealedAtRestAndOnlyTheSameKeyOpensThem() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let secret = "whsec-0123456789abcdef"
        let id: String
        do {
            let outbox = try Outbox(directory: dir.path, durability: .full)
            try outbox.createTopic("hooks", deliveryPolicy: nil, now: now)
            id = try outbox.subscribe(
                topic: "hooks",
                SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/h", secret: secret),
                publicURL: "http://p", now: now
            ).id
            #expect(try outbox.subscription(id: id)?.definition.secret == secret)
        }
        let stored = try #require(try Self.storedSecret(dir.path, id))
        #expect(stored.hasPrefix("enc:v1:") && !stored.contains(secret))
        // The key file was made on first use, owner-only.
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/secrets.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try Outbox(directory: dir.path, durability: .full).subscription(id: id)?.definition.secret == secret)
        // Another key: the outbox refuses to open, saying why.
        do {
            _ = try Outbox(
                directory: dir.path, durability: .full, secrets: SecretBox(key: SymmetricKey(size: .bits256)))
            Issue.record("an outbox opened with a key that does not open its secrets")
        } catch let error as StoreError {
            #expect(error.message.contains("secrets key"), "\(error)")
        }
        // A sealed value is bound to its row: copied to another subscription, it does not open there.
        let box = try SecretBox.load(dataDirectory: dir.path)
        #expect(throws: StoreError.self) { try box.open(stored, context: "notify.subscriptions.secret/sub-other") }
        #expect(try box.openText(stored, context: "notify.subscriptions.secret/" + id) == secret)
    }

    @Test func theKeyCanComeFromTheEnvironment() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let box = try SecretBox.load(dataDirectory: dir.path, environmentVariable: "K", environment: ["K": key])
        let sealed = try box.seal("x", context: "c")
        #expect(
            try SecretBox(key: SymmetricKey(data: Data((0..<32).map { UInt8($0) }))).openText(sealed, context: "c")
                == "x")
        #expect(
            !FileManager.default.fileExists(atPath: dir.path + "/secrets.key"),
            "no key file when the environment has the key")
        #expect(throws: StoreError.self) {
            try SecretBox.load(dataDirectory: dir.path, environmentVariable: "K", environment: [:])
        }
        #expect(throws: StoreError.self) {
            try SecretBox.load(dataDirectory: dir.path, environmentVariable: "K", environment: ["K": "c2hvcnQ="])
        }
    }
}
