import Crypto
import Foundation
import GRDB
import Metrics
import PlumbStore

/// Topics, subscriptions and the persisted outbox of deliveries, in `notify.sqlite`.
///
/// A webhook subscription's signing secret is stored sealed (`SecretBox`), never in clear; a secret stored in clear
/// by an older version is sealed when the outbox opens.
///
/// `publish` commits the message and one pending delivery per confirmed subscription before it returns, so an
/// accepted notification survives a crash; the `DeliveryService` sends pending deliveries and records each
/// attempt.
public final class Outbox: Sendable {
    public let database: SQLiteStore
    /// Seals subscription secrets.
    let secrets: SecretBox
    /// How many secrets in clear were sealed when this outbox opened (an upgrade from a version that kept them clear).
    public let sealedAtOpen: Int

    public struct Topic: Sendable, Equatable, Codable {
        public var name: String
        /// `file` or `api`.
        public var source: String
        public var deliveryPolicy: DeliveryPolicy?
        public var createdAt: Int64

        package init(name: String, source: String, deliveryPolicy: DeliveryPolicy?, createdAt: Int64) {
            self.name = name
            self.source = source
            self.deliveryPolicy = deliveryPolicy
            self.createdAt = createdAt
        }
    }

    public struct Subscription: Sendable, Equatable {
        public var id: String
        public var topic: String
        public var definition: SubscriptionDefinition
        /// `Confirmed` or `PendingConfirmation`.
        public var status: String
        public var source: String
        public var createdAt: Int64
        package var token: String?
        package var tokenExpiresAt: Int64?

        package init(
            id: String, topic: String, definition: SubscriptionDefinition, status: String, source: String,
            createdAt: Int64, token: String?, tokenExpiresAt: Int64?
        ) {
            self.id = id
            self.topic = topic
            self.definition = definition
            self.status = status
            self.source = source
            self.createdAt = createdAt
            self.token = token
            self.tokenExpiresAt = tokenExpiresAt
        }
    }

    /// How long a node of a cluster holds the deliveries it claimed (`due`) before another node may take them: longer
    /// than any one attempt (a webhook has 15 s, a mail its SMTP timeouts).
    public static let claimDuration: Double = 120

    /// SNS: confirmation tokens are valid for about two days.
    public static let tokenLifetime: Int64 = 2 * 86_400
    /// SNS: a message is at most 256 KB; a subject at most 100 characters.
    public static let maxMessageBytes = 256 * 1_024
    public static let maxSubjectLength = 100

    /// - Parameter secrets: the server's box; by default the key in `<directory>/secrets.key`.
    public init(directory: String, durability: Durability, secrets: SecretBox? = nil) throws {
        let box = try secrets ?? SecretBox.load(dataDirectory: directory)
        self.secrets = box
        let store = try SQLiteStore(
            path: directory + "/notify.sqlite", durability: durability,
            migrations: [
                Migration("notify-1") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE topics (name TEXT PRIMARY KEY, source TEXT NOT NULL, policy TEXT, created_at INTEGER NOT NULL);
                            CREATE TABLE subscriptions (
                                id TEXT PRIMARY KEY, topic TEXT NOT NULL, protocol TEXT NOT NULL, endpoint TEXT NOT NULL,
                                format TEXT NOT NULL, secret_env TEXT, secret TEXT, policy TEXT, status TEXT NOT NULL,
                                source TEXT NOT NULL, token TEXT UNIQUE, token_expires_at INTEGER, created_at INTEGER NOT NULL);
                            CREATE INDEX subscriptions_by_topic ON subscriptions (topic);
                            CREATE TABLE messages (
                                id TEXT PRIMARY KEY, topic TEXT NOT NULL, type TEXT NOT NULL, subject TEXT, message TEXT NOT NULL,
                                attributes TEXT NOT NULL, created_at INTEGER NOT NULL);
                            CREATE TABLE deliveries (
                                id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, subscription_id TEXT NOT NULL, topic TEXT NOT NULL,
                                protocol TEXT NOT NULL, endpoint TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                                next_attempt_at REAL NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, updated_at REAL NOT NULL,
                                delivered_at REAL);
                            CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
                            CREATE INDEX deliveries_by_topic ON deliveries (topic, id);
                            """)
                },
                Migration("notify-2-alertmanager") { db in
                    // The webhook body Alertmanager sends was first called `alertmanager`; it is `alertmanager-webhook` now.
                    try db.execute(
                        sql: """
                            UPDATE subscriptions SET format = 'alertmanager-webhook' WHERE format = 'alertmanager';
                            CREATE INDEX deliveries_by_message ON deliveries (message_id, subscription_id);
                            CREATE TABLE alertmanager_alerts (
                                subscription_id TEXT NOT NULL, alarm TEXT NOT NULL, message_id TEXT NOT NULL,
                                starts_at INTEGER NOT NULL, ends_at INTEGER, resolved_by TEXT, queued_at REAL NOT NULL,
                                sent_state TEXT, sent_at REAL, PRIMARY KEY (subscription_id, alarm));
                            """)
                },
            ])
        database = store
        sealedAtOpen = try Self.sealSecrets(store, with: box)
    }

    // MARK: Topics and subscriptions

    /// Makes the file-declared topics and subscriptions exactly `topics`; API ones are left alone.
    public func syncFileTopics(_ topics: [TopicDefinition], now: Int64) throws {
        try database.pool.write { db in
            let names = Set(topics.map(\.name))
            for name in try String.fetchAll(db, sql: "SELECT name FROM topics WHERE source = 'file'")
            where !names.contains(name) {
                try db.execute(sql: "DELETE FROM topics WHERE name = ?", arguments: [name])
                try db.execute(sql: "DELETE FROM subscriptions WHERE topic = ?", arguments: [name])
            }
            for topic in topics {
                try db.execute(
                    sql: """
                        INSERT INTO topics (name, source, policy, created_at) VALUES (?, 'file', ?, ?)
                        ON CONFLICT (name) DO UPDATE SET source = 'file', policy = excluded.policy
                        """,
                    arguments: [topic.name, Self.json(topic.deliveryPolicy), now])
                let ids = topic.subscriptions.map { Self.fileSubscriptionID(topic: topic.name, $0) }
                let existing = try String.fetchAll(
                    db, sql: "SELECT id FROM subscriptions WHERE topic = ? AND source = 'file'", arguments: [topic.name]
                )
                for id in existing where !ids.contains(id) {
                    try db.execute(sql: "DELETE FROM subscriptions WHERE id = ?", arguments: [id])
                }
                for (id, s) in zip(ids, topic.subscriptions) {
                    try db.execute(
                        sql: """
                            INSERT INTO subscriptions (id, topic, protocol, endpoint, format, secret_env, policy, status, source, created_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, 'Confirmed', 'file', ?)
                            ON CONFLICT (id) DO UPDATE SET format = excluded.format, secret_env = excluded.secret_env,
                                policy = excluded.policy, status = 'Confirmed', source = 'file'
                            """,
                        arguments: [
                            id, topic.name, s.protocol.rawValue, s.endpoint, s.format.rawValue, s.secretEnv,
                            Self.json(s.deliveryPolicy), now,
                        ])
                }
            }
        }
    }

    /// A stable id for a file-declared subscription, so reloads keep it (and its deliveries' references).
    package static func fileSubscriptionID(topic: String, _ s: SubscriptionDefinition) -> String {
        let digest = SHA256.hash(data: Data("\(topic)\n\(s.protocol.rawValue)\n\(s.endpoint)".utf8))
        return "sub-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Creates a topic (idempotent, as SNS CreateTopic).
    @discardableResult
    public func createTopic(_ name: String, deliveryPolicy: DeliveryPolicy?, now: Int64) throws -> Topic {
        if let problem = TopicDefinition.validateName(name) { throw NotifyError(problem) }
        if let problem = deliveryPolicy?.validate() { throw NotifyError("delivery_policy: \(problem)") }
        return try database.pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO topics (name, source, policy, created_at) VALUES (?, 'api', ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [name, Self.json(deliveryPolicy), now])
            return try Self.topic(db, name)!
        }
    }

    public func topics() throws -> [Topic] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM topics ORDER BY name").map(Self.topic(row:))
        }
    }

    public func topic(_ name: String) throws -> Topic? {
        try database.pool.read { db in try Self.topic(db, name) }
    }

    public func topicNames() -> Set<String> {
        Set((try? database.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM topics") }) ?? [])
    }

    public func subscriptions(topic: String? = nil) throws -> [Subscription] {
        try database.pool.read { db in
            if let topic {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM subscriptions WHERE topic = ? ORDER BY created_at, id", arguments: [topic]
                ).map { try self.subscription(row: $0) }
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM subscriptions ORDER BY topic, created_at, id").map {
                try self.subscription(row: $0)
            }
        }
    }

    public func subscription(id: String) throws -> Subscription? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE id = ?", arguments: [id]).map {
                try self.subscription(row: $0)
            }
        }
    }

    /// Subscribes an endpoint through the API: `PendingConfirmation` until the token sent to the endpoint comes
    /// back (SNS's SubscribeURL flow). Returns the subscription; the confirmation request is already queued.
    public func subscribe(
        topic: String, _ definition: SubscriptionDefinition, publicURL: String, now: Int64
    ) throws -> Subscription {
        if let (field, problem) = definition.problem() { throw NotifyError("\(field): \(problem)") }
        let id = "sub-" + UUID().uuidString.lowercased()
        let token = Self.randomToken()
        let messageID = UUID().uuidString.lowercased()
        return try database.pool.write { db in
            guard try Self.topic(db, topic) != nil else { throw NotifyError.topicNotFound(topic) }
            if let existing = try Row.fetchOne(
                db, sql: "SELECT * FROM subscriptions WHERE topic = ? AND protocol = ? AND endpoint = ?",
                arguments: [topic, definition.protocol.rawValue, definition.endpoint])
            {
                return try self.subscription(row: existing)
            }
            if definition.protocol == .function || definition.protocol == .alertmanager {
                // A hosted function belongs to this server: confirmed at once, as SNS does for the owner's Lambda. An
                // Alertmanager cannot open a confirmation link (it only takes alerts); the caller is an operator allowed
                // topics:Subscribe, and a confirmation request would reach the same URL anyway.
                try db.execute(
                    sql: """
                        INSERT INTO subscriptions (id, topic, protocol, endpoint, format, policy, status, source, created_at)
                        VALUES (?, ?, ?, ?, 'plumb', ?, 'Confirmed', 'api', ?)
                        """,
                    arguments: [
                        id, topic, definition.protocol.rawValue, definition.endpoint,
                        Self.json(definition.deliveryPolicy), now,
                    ])
                return try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE id = ?", arguments: [id]).map {
                    try self.subscription(row: $0)
                }!
            }
            try db.execute(
                sql: """
                    INSERT INTO subscriptions (id, topic, protocol, endpoint, format, secret_env, secret, policy, status, source,
                        token, token_expires_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PendingConfirmation', 'api', ?, ?, ?)
                    """,
                arguments: [
                    id, topic, definition.protocol.rawValue, definition.endpoint, definition.format.rawValue,
                    definition.secretEnv,
                    try definition.secret.map { try secrets.seal($0, context: Self.secretContext(id)) },
                    Self.json(definition.deliveryPolicy),
                    token, now + Self.tokenLifetime, now,
                ])
            let request = Self.confirmationRequest(topic: topic, token: token, publicURL: publicURL)
            try db.execute(
                sql:
                    "INSERT INTO messages (id, topic, type, subject, message, attributes, created_at) VALUES (?, ?, 'SubscriptionConfirmation', ?, ?, ?, ?)",
                arguments: [messageID, topic, request.subject, request.text, Self.json(request.attributes), now])
            try Self.enqueue(
                db, messageID: messageID, topic: topic, subscriptionID: id, definition: definition, now: now)
            return try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE id = ?", arguments: [id]).map {
                try self.subscription(row: $0)
            }!
        }
    }

    /// Confirms the subscription that `token` was sent to.
    public func confirm(token: String, now: Int64) throws -> Subscription {
        try database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM subscriptions WHERE token = ?", arguments: [token])
            else {
                throw NotifyError(status: 404, code: "NotFound", "no subscription waits for this token")
            }
            let subscription = try self.subscription(row: row)
            if let expires = subscription.tokenExpiresAt, expires < now {
                throw NotifyError(status: 410, code: "TokenExpired", "the confirmation token expired; subscribe again")
            }
            try db.execute(
                sql:
                    "UPDATE subscriptions SET status = 'Confirmed', token = NULL, token_expires_at = NULL WHERE id = ?",
                arguments: [subscription.id])
            var confirmed = subscription
            confirmed.status = "Confirmed"
            return confirmed
        }
    }

    public func unsubscribe(id: String) throws {
        try database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT source FROM subscriptions WHERE id = ?", arguments: [id])
            else {
                throw NotifyError(status: 404, code: "NotFound", "no subscription '\(id)'")
            }
            guard (row["source"] as String) == "api" else {
                throw NotifyError(
                    status: 409, code: "ResourceConflict",
                    "subscription '\(id)' is declared in an alert file; edit the file and reload")
            }
            try db.execute(sql: "DELETE FROM subscriptions WHERE id = ?", arguments: [id])
        }
    }

    // MARK: Publishing

    /// Stores the message and a pending delivery per confirmed subscription, durably, then returns its id.
    @discardableResult
    public func publish(
        topic: String, subject: String?, message: String, attributes: [String: String] = [:], now: Int64
    ) throws -> String {
        try Self.check(subject: subject, message: message, attributes: attributes)
        let messageID = UUID().uuidString.lowercased()
        try database.pool.write { db in
            guard try Self.topic(db, topic) != nil else { throw NotifyError.topicNotFound(topic) }
            try db.execute(
                sql:
                    "INSERT INTO messages (id, topic, type, subject, message, attributes, created_at) VALUES (?, ?, 'Notification', ?, ?, ?, ?)",
                arguments: [messageID, topic, subject, message, Self.json(attributes), now])
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM subscriptions WHERE topic = ? AND status = 'Confirmed'", arguments: [topic])
            for row in rows {
                let s = try self.subscription(row: row, unsealing: false)
                if s.definition.protocol == .alertmanager,
                    try Self.routeToAlertmanager(
                        db, messageID: messageID, topic: topic, subscription: s, attributes: attributes, now: now)
                {
                    continue
                }
                try Self.enqueue(
                    db, messageID: messageID, topic: topic, subscriptionID: s.id, definition: s.definition, now: now)
            }
        }
        Counter(label: "Plumb/Notify/NumberOfMessagesPublished", dimensions: [("Topic", topic)]).increment()
        return messageID
    }

    /// SNS's limits on what is published, checked before anything is stored.
    package static func check(subject: String?, message: String, attributes: [String: String]) throws {
        guard !message.isEmpty else { throw NotifyError("message must not be empty") }
        guard message.utf8.count <= Self.maxMessageBytes else { throw NotifyError("message is larger than 256 KB") }
        if let subject {
            guard subject.count <= Self.maxSubjectLength, !subject.isEmpty else {
                throw NotifyError("subject must have 1 to 100 characters")
            }
            // The subject becomes an email header: no line break, NUL or other control character gets that far.
            guard !subject.contains(where: \.isNewline) else { throw NotifyError("subject must be one line") }
            guard !subject.unicodeScalars.contains(where: EmailAddress.isControl) else {
                throw NotifyError("subject must not hold control characters (NUL, tab, escape)")
            }
        }
        guard attributes.count <= 10 else { throw NotifyError("at most 10 attributes") }
    }

    /// The confirmation request an API subscription is sent: its subject, text and attributes (the token and the
    /// link that confirms).
    package static func confirmationRequest(
        topic: String, token: String, publicURL: String
    ) -> (subject: String, text: String, attributes: [String: String]) {
        let url = "\(publicURL)/subscriptions/confirm?token=\(token)"
        let text =
            "You have chosen to subscribe to the topic \(topic). To confirm the subscription, visit the SubscribeURL included in this message: \(url)"
        return ("Plumb: confirm your subscription to \(topic)", text, ["token": token, "subscribeURL": url])
    }

    static func enqueue(
        _ db: Database, messageID: String, topic: String, subscriptionID: String, definition: SubscriptionDefinition,
        now: Int64
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO deliveries (message_id, subscription_id, topic, protocol, endpoint, status, next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                """,
            arguments: [
                messageID, subscriptionID, topic, definition.protocol.rawValue, definition.endpoint, Double(now), now,
                Double(now),
            ])
    }

    // MARK: Rows

    static func topic(_ db: Database, _ name: String) throws -> Topic? {
        try Row.fetchOne(db, sql: "SELECT * FROM topics WHERE name = ?", arguments: [name]).map(topic(row:))
    }

    static func topic(row: Row) -> Topic {
        Topic(
            name: row["name"], source: row["source"], deliveryPolicy: decode(row["policy"]),
            createdAt: row["created_at"])
    }

    /// The subscription of a row, its secret opened (or, with `unsealing` false, left out: publishing needs none).
    func subscription(row: Row, unsealing: Bool = true) throws -> Subscription {
        let id: String = row["id"]
        let sealed: String? = row["secret"]
        let definition = SubscriptionDefinition(
            protocol: SubscriptionProtocol(rawValue: row["protocol"]) ?? .webhook, endpoint: row["endpoint"],
            secretEnv: row["secret_env"],
            secret: unsealing ? try sealed.map { try secrets.openText($0, context: Self.secretContext(id)) } : nil,
            format: WebhookFormat(named: row["format"]) ?? .plumb, deliveryPolicy: Self.decode(row["policy"]))
        return Subscription(
            id: row["id"], topic: row["topic"], definition: definition, status: row["status"], source: row["source"],
            createdAt: row["created_at"], token: row["token"], tokenExpiresAt: row["token_expires_at"])
    }

    package static func json<T: Encodable>(_ value: T?) -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    package static func decode<T: Decodable>(_ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    package static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
