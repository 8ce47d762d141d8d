import Logging
import PlumbNotify
import PostgresNIO

/// The deliveries of `PostgresOutbox`: claimed by one node (`due`), recorded by the node holding the claim, listed.
extension PostgresOutbox {
    public func due(now: Double, limit: Int, excluding: Set<Int64>) async throws -> [Outbox.Delivery] {
        guard limit > 0 else { return [] }
        let logger = self.logger
        let node = self.node
        let until = now + claimDuration
        let excluded = Array(excluding)
        let claimed = try await database.run { connection in
            try await Self.deliveries(
                connection.query(
                    """
                    UPDATE deliveries SET claimed_until = \(until), claimed_by = \(node)
                    WHERE id IN (
                        SELECT id FROM deliveries
                        WHERE status = 'pending' AND next_attempt_at <= \(now) AND claimed_until <= \(now)
                            AND NOT (id = ANY(\(excluded)::bigint[]))
                        ORDER BY next_attempt_at, id LIMIT \(limit)
                        FOR UPDATE SKIP LOCKED)
                    RETURNING \(unescaped: Self.deliveryColumns)
                    """, logger: logger))
        }
        return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func message(id: String) async throws -> Outbox.Message? {
        let logger = self.logger
        return try await database.run { connection in
            for try await (id, topic, type, subject, message, attributes, createdAt) in try await connection.query(
                "SELECT id, topic, type, subject, message, attributes, created_at FROM messages WHERE id = \(id)",
                logger: logger
            ).decode((String, String, String, String?, String, String, Int64).self) {
                return Outbox.Message(
                    id: id, topic: topic, type: type, subject: subject, message: message,
                    attributes: Outbox.decode(attributes) ?? [:], createdAt: createdAt)
            }
            return nil
        }
    }

    // An attempt is recorded by the node that claimed the delivery: one whose claim lapsed while it sent (and which
    // another node took over) records nothing over what the other node records.

    public func markDelivered(_ id: Int64, attempts: Int, now: Double) async throws {
        try await update(
            """
            UPDATE deliveries SET status = 'delivered', attempts = \(attempts), last_error = NULL, updated_at = \(now),
                delivered_at = \(now), claimed_until = 0
            WHERE id = \(id) AND claimed_by = \(node)
            """)
    }

    public func markRetry(_ id: Int64, attempts: Int, nextAttemptAt: Double, error: String, now: Double) async throws {
        try await update(
            """
            UPDATE deliveries SET attempts = \(attempts), next_attempt_at = \(nextAttemptAt), last_error = \(error),
                updated_at = \(now), claimed_until = 0
            WHERE id = \(id) AND claimed_by = \(node)
            """)
    }

    public func markFailed(_ id: Int64, attempts: Int, error: String, now: Double) async throws {
        try await update(
            """
            UPDATE deliveries SET status = 'failed', attempts = \(attempts), last_error = \(error), updated_at = \(now),
                claimed_until = 0
            WHERE id = \(id) AND claimed_by = \(node)
            """)
    }

    public func markSuperseded(_ id: Int64, attempts: Int, reason: String, now: Double) async throws {
        try await update(
            """
            UPDATE deliveries SET status = 'superseded', attempts = \(attempts), last_error = \(reason),
                updated_at = \(now), claimed_until = 0
            WHERE id = \(id) AND claimed_by = \(node)
            """)
    }

    func update(_ query: PostgresQuery) async throws {
        let logger = self.logger
        try await database.run { connection in _ = try await connection.query(query, logger: logger) }
    }

    public func redrive(_ id: Int64, now: Double) async throws -> Outbox.Delivery {
        let logger = self.logger
        return try await database.transaction { connection in
            guard
                let delivery = try await Self.deliveries(
                    connection.query(
                        "SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE id = \(id) FOR UPDATE",
                        logger: logger)
                ).first
            else {
                throw NotifyError(status: 404, code: "NotFound", "no delivery \(id)")
            }
            guard delivery.status == "failed" else {
                throw NotifyError(status: 409, code: "InvalidState", "only failed deliveries can be retried")
            }
            return try await Self.deliveries(
                connection.query(
                    """
                    UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(now),
                        claimed_until = 0
                    WHERE id = \(id) RETURNING \(unescaped: Self.deliveryColumns)
                    """, logger: logger))[0]
        }
    }

    public func deliveries(
        topic: String?, status: String?, limit: Int, before: Int64?
    ) async throws -> [Outbox.Delivery] {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.deliveries(
                connection.query(
                    """
                    SELECT \(unescaped: Self.deliveryColumns) FROM deliveries
                    WHERE (\(topic)::text IS NULL OR topic = \(topic)::text)
                        AND (\(status)::text IS NULL OR status = \(status)::text)
                        AND (\(before)::bigint IS NULL OR id < \(before)::bigint)
                    ORDER BY id DESC LIMIT \(limit)
                    """, logger: logger))
        }
    }

    public func deliveryCounts() async throws -> [String: Int] {
        let logger = self.logger
        return try await database.run { connection in
            var out: [String: Int] = [:]
            for try await (status, count) in try await connection.query(
                "SELECT status, count(*) FROM deliveries GROUP BY status", logger: logger
            ).decode((String, Int64).self) {
                out[status] = Int(clamping: count)
            }
            return out
        }
    }

    static let deliveryColumns =
        "id, message_id, subscription_id, topic, protocol, endpoint, status, attempts, next_attempt_at, last_error, created_at, delivered_at"

    static func deliveries(_ rows: PostgresRowSequence) async throws -> [Outbox.Delivery] {
        var out: [Outbox.Delivery] = []
        for try await row in rows {
            let (id, messageID, subscriptionID, topic, proto, endpoint, status, attempts, next, error, created, at) =
                try row.decode(
                    (Int64, String, String, String, String, String, String, Int, Double, String?, Int64, Double?).self)
            out.append(
                Outbox.Delivery(
                    id: id, messageID: messageID, subscriptionID: subscriptionID, topic: topic,
                    protocol: SubscriptionProtocol(rawValue: proto) ?? .webhook, endpoint: endpoint, status: status,
                    attempts: attempts, nextAttemptAt: next, lastError: error, createdAt: created, deliveredAt: at))
        }
        return out
    }
}
