import Foundation
import Logging
import Metrics
import PlumbAPI
import PlumbNotify
import PlumbStore
import PostgresNIO

/// The notification contract on PostgreSQL (`storage.state: postgres`): topics, subscriptions, messages, deliveries
/// and the Alertmanager alerts, shared by every node of a cluster.
///
/// - **Each delivery is sent by one node.** `due` claims pending deliveries with `FOR UPDATE SKIP LOCKED` and stamps
///   them `claimed_until` now + `Outbox.claimDuration` and `claimed_by` this node: other nodes skip them until the
///   attempt is recorded (which clears the claim) or the claim lapses because the node died mid-send. Only that last
///   case sends twice, with the same message id (the receiver's de-duplication key), as SNS's at-least-once delivery
///   does.
/// - **Secrets**: a webhook's signing secret is sealed with the node's `SecretBox`; the nodes of a cluster share one
///   key (`secrets_key_env`), or a node cannot open what another sealed.
public final class PostgresOutbox: NotificationStoring, Sendable {
    public let database: PostgresStore
    let secrets: SecretBox
    /// Who claims deliveries (`claimed_by`): the cluster node's name.
    let node: String
    /// Seconds a claim holds (`Outbox.claimDuration` at least; more when a mail may take longer to send).
    let claimDuration: Double
    let logger: Logger

    /// The notification area's schema, version by version (documented in docs/postgres-schema.md).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE topics (name text PRIMARY KEY, source text NOT NULL, policy text,
                    created_at bigint NOT NULL)
                """,
                """
                CREATE TABLE subscriptions (id text PRIMARY KEY, topic text NOT NULL, protocol text NOT NULL,
                    endpoint text NOT NULL, format text NOT NULL, secret_env text, secret text, policy text,
                    status text NOT NULL, source text NOT NULL, token text UNIQUE, token_expires_at bigint,
                    created_at bigint NOT NULL)
                """,
                "CREATE INDEX subscriptions_by_topic ON subscriptions (topic)",
                """
                CREATE TABLE messages (id text PRIMARY KEY, topic text NOT NULL, type text NOT NULL, subject text,
                    message text NOT NULL, attributes text NOT NULL, created_at bigint NOT NULL)
                """,
                """
                CREATE TABLE deliveries (id bigserial PRIMARY KEY, message_id text NOT NULL,
                    subscription_id text NOT NULL, topic text NOT NULL, protocol text NOT NULL, endpoint text NOT NULL,
                    status text NOT NULL, attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at double precision NOT NULL, last_error text, created_at bigint NOT NULL,
                    updated_at double precision NOT NULL, delivered_at double precision,
                    claimed_until double precision NOT NULL DEFAULT 0, claimed_by text)
                """,
                "CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending'",
                "CREATE INDEX deliveries_by_topic ON deliveries (topic, id)",
                "CREATE INDEX deliveries_by_message ON deliveries (message_id, subscription_id)",
                """
                CREATE TABLE alertmanager_alerts (subscription_id text NOT NULL, alarm text NOT NULL,
                    message_id text NOT NULL, starts_at bigint NOT NULL, ends_at bigint, resolved_by text,
                    queued_at double precision NOT NULL, sent_state text, sent_at double precision,
                    PRIMARY KEY (subscription_id, alarm))
                """,
            ])
    ]

    init(database: PostgresStore, secrets: SecretBox, node: String, claimDuration: Double, logger: Logger) {
        self.claimDuration = claimDuration
        self.database = database
        self.secrets = secrets
        self.node = node
        self.logger = logger
    }

    /// The store on `database`, its schema migrated to this release's.
    public static func open(
        database: PostgresStore, secrets: SecretBox, node: String, claimDuration: Double = Outbox.claimDuration,
        logger: Logger = Logger(label: "plumb.notify")
    ) async throws -> PostgresOutbox {
        try await database.migrate(area: "notify", migrations)
        return PostgresOutbox(
            database: database, secrets: secrets, node: node, claimDuration: max(claimDuration, Outbox.claimDuration),
            logger: logger)
    }

    // MARK: Topics and subscriptions

    public func syncFileTopics(_ topics: [TopicDefinition], now: Int64) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            let names = topics.map(\.name)
            try await connection.query(
                """
                DELETE FROM subscriptions WHERE topic IN (
                    SELECT name FROM topics WHERE source = 'file' AND NOT (name = ANY(\(names)::text[])))
                """, logger: logger)
            try await connection.query(
                "DELETE FROM topics WHERE source = 'file' AND NOT (name = ANY(\(names)::text[]))", logger: logger)
            for topic in topics {
                try await connection.query(
                    """
                    INSERT INTO topics (name, source, policy, created_at)
                    VALUES (\(topic.name), 'file', \(Outbox.json(topic.deliveryPolicy)), \(now))
                    ON CONFLICT (name) DO UPDATE SET source = 'file', policy = excluded.policy
                    """, logger: logger)
                let ids = topic.subscriptions.map { Outbox.fileSubscriptionID(topic: topic.name, $0) }
                try await connection.query(
                    """
                    DELETE FROM subscriptions WHERE topic = \(topic.name) AND source = 'file'
                        AND NOT (id = ANY(\(ids)::text[]))
                    """, logger: logger)
                for (id, s) in zip(ids, topic.subscriptions) {
                    try await connection.query(
                        """
                        INSERT INTO subscriptions (id, topic, protocol, endpoint, format, secret_env, policy, status,
                            source, created_at)
                        VALUES (\(id), \(topic.name), \(s.protocol.rawValue), \(s.endpoint), \(s.format.rawValue),
                            \(s.secretEnv), \(Outbox.json(s.deliveryPolicy)), 'Confirmed', 'file', \(now))
                        ON CONFLICT (id) DO UPDATE SET format = excluded.format, secret_env = excluded.secret_env,
                            policy = excluded.policy, status = 'Confirmed', source = 'file'
                        """, logger: logger)
                }
            }
        }
    }

    @discardableResult
    public func createTopic(_ name: String, deliveryPolicy: DeliveryPolicy?, now: Int64) async throws -> Outbox.Topic {
        if let problem = TopicDefinition.validateName(name) { throw NotifyError(problem) }
        if let problem = deliveryPolicy?.validate() { throw NotifyError("delivery_policy: \(problem)") }
        let logger = self.logger
        return try await database.run { connection in
            try await connection.query(
                """
                INSERT INTO topics (name, source, policy, created_at)
                VALUES (\(name), 'api', \(Outbox.json(deliveryPolicy)), \(now)) ON CONFLICT (name) DO NOTHING
                """, logger: logger)
            return try await Self.topic(connection, name, logger: logger)!
        }
    }

    public func topics() async throws -> [Outbox.Topic] {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.topics(
                connection.query("SELECT name, source, policy, created_at FROM topics ORDER BY name", logger: logger))
        }
    }

    public func topic(_ name: String) async throws -> Outbox.Topic? {
        let logger = self.logger
        return try await database.run { connection in try await Self.topic(connection, name, logger: logger) }
    }

    public func subscriptions(topic: String?) async throws -> [Outbox.Subscription] {
        let logger = self.logger
        let rows = try await database.run { connection in
            try await Self.subscriptionRows(
                connection.query(
                    """
                    SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions
                    WHERE \(topic)::text IS NULL OR topic = \(topic)::text ORDER BY topic, created_at, id
                    """, logger: logger))
        }
        return try rows.map { try subscription($0) }
    }

    public func subscription(id: String) async throws -> Outbox.Subscription? {
        let logger = self.logger
        let rows = try await database.run { connection in
            try await Self.subscriptionRows(
                connection.query(
                    "SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions WHERE id = \(id)", logger: logger
                ))
        }
        return try rows.first.map { try subscription($0) }
    }

    public func subscribe(
        topic: String, _ definition: SubscriptionDefinition, publicURL: String, now: Int64
    ) async throws -> Outbox.Subscription {
        if let (field, problem) = definition.problem() { throw NotifyError("\(field): \(problem)") }
        let id = "sub-" + UUID().uuidString.lowercased()
        let token = Outbox.randomToken()
        let messageID = UUID().uuidString.lowercased()
        let sealed = try definition.secret.map { try secrets.seal($0, context: Outbox.secretContext(id)) }
        let logger = self.logger
        let row = try await database.transaction { connection -> SubscriptionRow in
            // The topic's row locked: two nodes subscribing the same endpoint at once make one subscription.
            var found = false
            for try await _ in try await connection.query(
                "SELECT name FROM topics WHERE name = \(topic) FOR UPDATE", logger: logger
            ).decode(String.self) {
                found = true
            }
            guard found else { throw NotifyError.topicNotFound(topic) }
            if let existing = try await Self.subscriptionRows(
                connection.query(
                    """
                    SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions
                    WHERE topic = \(topic) AND protocol = \(definition.protocol.rawValue)
                        AND endpoint = \(definition.endpoint)
                    """, logger: logger)
            ).first {
                return existing
            }
            if definition.protocol == .function || definition.protocol == .alertmanager {
                // Confirmed at once, as in the embedded store (see `Outbox.subscribe`).
                try await connection.query(
                    """
                    INSERT INTO subscriptions (id, topic, protocol, endpoint, format, policy, status, source, created_at)
                    VALUES (\(id), \(topic), \(definition.protocol.rawValue), \(definition.endpoint), 'plumb',
                        \(Outbox.json(definition.deliveryPolicy)), 'Confirmed', 'api', \(now))
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO subscriptions (id, topic, protocol, endpoint, format, secret_env, secret, policy, status,
                        source, token, token_expires_at, created_at)
                    VALUES (\(id), \(topic), \(definition.protocol.rawValue), \(definition.endpoint),
                        \(definition.format.rawValue), \(definition.secretEnv), \(sealed),
                        \(Outbox.json(definition.deliveryPolicy)), 'PendingConfirmation', 'api', \(token),
                        \(now + Outbox.tokenLifetime), \(now))
                    """, logger: logger)
                let request = Outbox.confirmationRequest(topic: topic, token: token, publicURL: publicURL)
                try await connection.query(
                    """
                    INSERT INTO messages (id, topic, type, subject, message, attributes, created_at)
                    VALUES (\(messageID), \(topic), 'SubscriptionConfirmation', \(request.subject), \(request.text),
                        \(Outbox.json(request.attributes) ?? "{}"), \(now))
                    """, logger: logger)
                try await Self.enqueue(
                    connection, messageID: messageID, topic: topic, subscriptionID: id, definition: definition,
                    now: now, logger: logger)
            }
            return try await Self.subscriptionRows(
                connection.query(
                    "SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions WHERE id = \(id)", logger: logger
                ))[0]
        }
        return try subscription(row)
    }

    public func confirm(token: String, now: Int64) async throws -> Outbox.Subscription {
        let logger = self.logger
        var row = try await database.transaction { connection -> SubscriptionRow in
            guard
                let row = try await Self.subscriptionRows(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions WHERE token = \(token)
                        FOR UPDATE
                        """, logger: logger)
                ).first
            else {
                throw NotifyError(status: 404, code: "NotFound", "no subscription waits for this token")
            }
            if let expires = row.tokenExpiresAt, expires < now {
                throw NotifyError(status: 410, code: "TokenExpired", "the confirmation token expired; subscribe again")
            }
            try await connection.query(
                """
                UPDATE subscriptions SET status = 'Confirmed', token = NULL, token_expires_at = NULL WHERE id = \(row.id)
                """, logger: logger)
            return row
        }
        row.status = "Confirmed"
        return try subscription(row)
    }

    public func unsubscribe(id: String) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            var source: String?
            for try await value in try await connection.query(
                "SELECT source FROM subscriptions WHERE id = \(id) FOR UPDATE", logger: logger
            ).decode(String.self) {
                source = value
            }
            guard let source else { throw NotifyError(status: 404, code: "NotFound", "no subscription '\(id)'") }
            guard source == "api" else {
                throw NotifyError(
                    status: 409, code: "ResourceConflict",
                    "subscription '\(id)' is declared in an alert file; edit the file and reload")
            }
            try await connection.query("DELETE FROM subscriptions WHERE id = \(id)", logger: logger)
        }
    }

    public func setDeliveryPolicy(topic: String, _ policy: DeliveryPolicy?) async throws {
        try await setPolicy(policy, table: "topics", column: "name", key: topic, what: "topic")
    }

    public func setDeliveryPolicy(subscription id: String, _ policy: DeliveryPolicy?) async throws {
        try await setPolicy(policy, table: "subscriptions", column: "id", key: id, what: "subscription")
    }

    /// Sets the `policy` of the row of `table` whose `column` is `key`, once it is known to be the API's.
    private func setPolicy(
        _ policy: DeliveryPolicy?, table: String, column: String, key: String, what: String
    ) async throws {
        if let problem = policy?.validate() { throw NotifyError("delivery_policy: \(problem)") }
        let logger = self.logger
        let text = Outbox.json(policy)
        try await database.transaction { connection in
            try await Self.requireAPI(
                try await connection.query(
                    "SELECT source FROM \(unescaped: table) WHERE \(unescaped: column) = \(key) FOR UPDATE",
                    logger: logger), key, what: what)
            try await connection.query(
                "UPDATE \(unescaped: table) SET policy = \(text) WHERE \(unescaped: column) = \(key)", logger: logger)
        }
    }

    public func deleteTopic(_ name: String) async throws {
        let logger = self.logger
        try await database.transaction { connection in
            try await Self.requireAPI(
                try await connection.query(
                    "SELECT source FROM topics WHERE name = \(name) FOR UPDATE", logger: logger), name, what: "topic")
            try await connection.query("DELETE FROM subscriptions WHERE topic = \(name)", logger: logger)
            try await connection.query("DELETE FROM topics WHERE name = \(name)", logger: logger)
        }
    }

    /// Refuses a topic or subscription that does not exist (404) or that an alert file declares (409).
    static func requireAPI(
        _ rows: PostgresRowSequence, _ key: String, what: String
    ) async throws {
        var source: String?
        for try await value in rows.decode(String.self) { source = value }
        guard let source else { throw NotifyError(status: 404, code: "NotFound", "no \(what) '\(key)'") }
        guard source == "api" else {
            throw NotifyError(
                status: 409, code: "ResourceConflict",
                "\(what) '\(key)' is declared in an alert file; edit the file and reload")
        }
    }

    // MARK: Publishing

    @discardableResult
    public func publish(
        topic: String, subject: String?, message: String, attributes: [String: String], now: Int64
    ) async throws -> String {
        try Outbox.check(subject: subject, message: message, attributes: attributes)
        let messageID = UUID().uuidString.lowercased()
        let logger = self.logger
        try await database.transaction { connection in
            guard try await Self.topic(connection, topic, logger: logger) != nil else {
                throw NotifyError.topicNotFound(topic)
            }
            try await connection.query(
                """
                INSERT INTO messages (id, topic, type, subject, message, attributes, created_at)
                VALUES (\(messageID), \(topic), 'Notification', \(subject), \(message),
                    \(Outbox.json(attributes) ?? "{}"), \(now))
                """, logger: logger)
            let confirmed = try await Self.subscriptionRows(
                connection.query(
                    """
                    SELECT \(unescaped: Self.subscriptionColumns) FROM subscriptions
                    WHERE topic = \(topic) AND status = 'Confirmed' ORDER BY id
                    """, logger: logger))
            for row in confirmed {
                let definition = row.definition(secret: nil)
                if definition.protocol == .alertmanager,
                    try await Self.routeToAlertmanager(
                        connection, messageID: messageID, topic: topic, subscriptionID: row.id, definition: definition,
                        attributes: attributes, now: now, logger: logger)
                {
                    continue
                }
                try await Self.enqueue(
                    connection, messageID: messageID, topic: topic, subscriptionID: row.id, definition: definition,
                    now: now, logger: logger)
            }
        }
        Counter(label: "Plumb/Notify/NumberOfMessagesPublished", dimensions: [("Topic", topic)]).increment()
        return messageID
    }

    static func enqueue(
        _ connection: PostgresConnection, messageID: String, topic: String, subscriptionID: String,
        definition: SubscriptionDefinition, now: Int64, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO deliveries (message_id, subscription_id, topic, protocol, endpoint, status, next_attempt_at,
                created_at, updated_at)
            VALUES (\(messageID), \(subscriptionID), \(topic), \(definition.protocol.rawValue), \(definition.endpoint),
                'pending', \(Double(now)), \(now), \(Double(now)))
            """, logger: logger)
    }

    // MARK: Rows

    static func topic(_ connection: PostgresConnection, _ name: String, logger: Logger) async throws -> Outbox.Topic? {
        try await topics(
            connection.query("SELECT name, source, policy, created_at FROM topics WHERE name = \(name)", logger: logger)
        ).first
    }

    static func topics(_ rows: PostgresRowSequence) async throws -> [Outbox.Topic] {
        var out: [Outbox.Topic] = []
        for try await (name, source, policy, createdAt) in rows.decode((String, String, String?, Int64).self) {
            out.append(
                Outbox.Topic(name: name, source: source, deliveryPolicy: Outbox.decode(policy), createdAt: createdAt))
        }
        return out
    }

    /// A subscription as stored, its secret still sealed.
    struct SubscriptionRow: Sendable {
        var id, topic, `protocol`, endpoint, format: String
        var secretEnv, secret, policy: String?
        var status, source: String
        var token: String?
        var tokenExpiresAt: Int64?
        var createdAt: Int64

        func definition(secret opened: String?) -> SubscriptionDefinition {
            SubscriptionDefinition(
                protocol: SubscriptionProtocol(rawValue: self.protocol) ?? .webhook, endpoint: endpoint,
                secretEnv: secretEnv, secret: opened, format: WebhookFormat(named: format) ?? .plumb,
                deliveryPolicy: Outbox.decode(policy))
        }
    }

    static let subscriptionColumns =
        "id, topic, protocol, endpoint, format, secret_env, secret, policy, status, source, token, token_expires_at, created_at"

    static func subscriptionRows(_ rows: PostgresRowSequence) async throws -> [SubscriptionRow] {
        var out: [SubscriptionRow] = []
        for try await row in rows {
            let (
                id, topic, proto, endpoint, format, secretEnv, secret, policy, status, source, token, expires, created
            ) =
                try row.decode(
                    (
                        String, String, String, String, String, String?, String?, String?, String, String, String?,
                        Int64?, Int64
                    ).self)
            out.append(
                SubscriptionRow(
                    id: id, topic: topic, protocol: proto, endpoint: endpoint, format: format, secretEnv: secretEnv,
                    secret: secret, policy: policy, status: status, source: source, token: token,
                    tokenExpiresAt: expires, createdAt: created))
        }
        return out
    }

    /// The subscription of a row, its secret opened.
    func subscription(_ row: SubscriptionRow) throws -> Outbox.Subscription {
        let opened = try row.secret.map { try secrets.openText($0, context: Outbox.secretContext(row.id)) }
        return Outbox.Subscription(
            id: row.id, topic: row.topic, definition: row.definition(secret: opened), status: row.status,
            source: row.source, createdAt: row.createdAt, token: row.token, tokenExpiresAt: row.tokenExpiresAt)
    }
}
