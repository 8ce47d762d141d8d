import Foundation
import GRDB

extension Outbox {
    /// One delivery of one message to one subscription, with its attempts so far.
    public struct Delivery: Sendable, Equatable {
        public var id: Int64
        public var messageID: String
        public var subscriptionID: String
        public var topic: String
        public var `protocol`: SubscriptionProtocol
        public var endpoint: String
        /// `pending`, `delivered`, `failed` (dead letter) or `superseded` (an Alertmanager alert a later state change
        /// replaced before it went out: not sent).
        public var status: String
        public var attempts: Int
        public var nextAttemptAt: Double
        public var lastError: String?
        public var createdAt: Int64
        public var deliveredAt: Double?

        package init(
            id: Int64, messageID: String, subscriptionID: String, topic: String, protocol: SubscriptionProtocol,
            endpoint: String, status: String, attempts: Int, nextAttemptAt: Double, lastError: String?,
            createdAt: Int64, deliveredAt: Double?
        ) {
            self.id = id
            self.messageID = messageID
            self.subscriptionID = subscriptionID
            self.topic = topic
            self.protocol = `protocol`
            self.endpoint = endpoint
            self.status = status
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
            self.lastError = lastError
            self.createdAt = createdAt
            self.deliveredAt = deliveredAt
        }
    }

    /// The message a delivery carries.
    public struct Message: Sendable, Equatable {
        public var id: String
        public var topic: String
        /// `Notification` or `SubscriptionConfirmation`.
        public var type: String
        public var subject: String?
        public var message: String
        public var attributes: [String: String]
        public var createdAt: Int64

        public init(
            id: String, topic: String, type: String, subject: String?, message: String, attributes: [String: String],
            createdAt: Int64
        ) {
            self.id = id
            self.topic = topic
            self.type = type
            self.subject = subject
            self.message = message
            self.attributes = attributes
            self.createdAt = createdAt
        }
    }

    /// Pending deliveries due at `now`, oldest first, skipping `excluding` (those in flight).
    public func due(now: Double, limit: Int, excluding: Set<Int64>) throws -> [Delivery] {
        guard limit > 0 else { return [] }
        return try database.pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                arguments: [now, limit + excluding.count])
            return rows.map(Self.delivery).filter { !excluding.contains($0.id) }.prefix(limit).map { $0 }
        }
    }

    public func message(id: String) throws -> Message? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]).map { row in
                Message(
                    id: row["id"], topic: row["topic"], type: row["type"], subject: row["subject"],
                    message: row["message"],
                    attributes: Self.decode(row["attributes"]) ?? [:], createdAt: row["created_at"])
            }
        }
    }

    public func markDelivered(_ id: Int64, attempts: Int, now: Double) throws {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE deliveries SET status = 'delivered', attempts = ?, last_error = NULL, updated_at = ?, delivered_at = ? WHERE id = ?",
                arguments: [attempts, now, now, id])
        }
    }

    public func markRetry(_ id: Int64, attempts: Int, nextAttemptAt: Double, error: String, now: Double) throws {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [attempts, nextAttemptAt, error, now, id])
        }
    }

    /// Gives up on a delivery: it stays visible as `failed` (the dead-letter list).
    public func markFailed(_ id: Int64, attempts: Int, error: String, now: Double) throws {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE deliveries SET status = 'failed', attempts = ?, last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [attempts, error, now, id])
        }
    }

    /// Records a delivery that was not sent because a later one carries what it would have said.
    public func markSuperseded(_ id: Int64, attempts: Int, reason: String, now: Double) throws {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE deliveries SET status = 'superseded', attempts = ?, last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [attempts, reason, now, id])
        }
    }

    /// Sends a failed delivery again from scratch (redrive from the dead-letter list).
    public func redrive(_ id: Int64, now: Double) throws -> Delivery {
        try database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]) else {
                throw NotifyError(status: 404, code: "NotFound", "no delivery \(id)")
            }
            guard (row["status"] as String) == "failed" else {
                throw NotifyError(status: 409, code: "InvalidState", "only failed deliveries can be retried")
            }
            try db.execute(
                sql:
                    "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?",
                arguments: [now, now, id])
            return Self.delivery(
                row: try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id])!)
        }
    }

    /// Deliveries, newest first, filtered by topic and status; `before` pages by id.
    public func deliveries(
        topic: String? = nil, status: String? = nil, limit: Int = 100, before: Int64? = nil
    ) throws -> [Delivery] {
        try database.pool.read { db in
            var sql = "SELECT * FROM deliveries WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let topic {
                sql += " AND topic = ?"
                arguments += [topic]
            }
            if let status {
                sql += " AND status = ?"
                arguments += [status]
            }
            if let before {
                sql += " AND id < ?"
                arguments += [before]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.delivery)
        }
    }

    /// Counts by status.
    public func deliveryCounts() throws -> [String: Int] {
        try database.pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status") {
                out[row["status"]] = row["n"]
            }
            return out
        }
    }

    static func delivery(row: Row) -> Delivery {
        Delivery(
            id: row["id"], messageID: row["message_id"], subscriptionID: row["subscription_id"], topic: row["topic"],
            protocol: SubscriptionProtocol(rawValue: row["protocol"]) ?? .webhook, endpoint: row["endpoint"],
            status: row["status"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
            lastError: row["last_error"], createdAt: row["created_at"], deliveredAt: row["delivered_at"])
    }
}
