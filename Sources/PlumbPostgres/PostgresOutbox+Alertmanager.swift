import Logging
import PlumbAPI
import PlumbNotify
import PostgresNIO

/// The Alertmanager alerts of `PostgresOutbox`: what each Alertmanager subscription has been told about each alarm,
/// the same rules as the embedded `Outbox`'s (`Outbox+Alertmanager`).
extension PostgresOutbox {
    /// As `Outbox.routeToAlertmanager`: ALARM opens (or carries on) the alert and queues this message's delivery;
    /// any other state ends a firing alert and makes its delivery pending again, to say resolved.
    static func routeToAlertmanager(
        _ connection: PostgresConnection, messageID: String, topic: String, subscriptionID: String,
        definition: SubscriptionDefinition, attributes: [String: String], now: Int64, logger: Logger
    ) async throws -> Bool {
        guard attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue, let alarm = attributes["alarm"],
            let state = attributes["state"]
        else { return false }
        let existing = try await alertmanagerAlert(
            connection, subscriptionID: subscriptionID, alarm: alarm, lock: true, logger: logger)
        if state == "ALARM" {
            let startsAt = existing.flatMap { $0.isFiring ? $0.startsAt : nil } ?? now
            try await connection.query(
                """
                INSERT INTO alertmanager_alerts (subscription_id, alarm, message_id, starts_at, queued_at)
                VALUES (\(subscriptionID), \(alarm), \(messageID), \(startsAt), \(Double(now)))
                ON CONFLICT (subscription_id, alarm) DO UPDATE SET message_id = excluded.message_id,
                    starts_at = excluded.starts_at, ends_at = NULL, resolved_by = NULL, queued_at = excluded.queued_at,
                    sent_state = NULL, sent_at = NULL
                """, logger: logger)
            try await enqueue(
                connection, messageID: messageID, topic: topic, subscriptionID: subscriptionID, definition: definition,
                now: now, logger: logger)
        } else if var ended = existing, ended.isFiring {
            ended.endsAt = now
            ended.resolvedBy = messageID
            try await end(connection, ended, now: Double(now), logger: logger)
        }
        return true
    }

    @discardableResult
    static func end(
        _ connection: PostgresConnection, _ alert: Outbox.AlertmanagerAlert, now: Double, logger: Logger
    ) async throws -> Bool {
        try await connection.query(
            """
            UPDATE alertmanager_alerts SET ends_at = \(alert.endsAt), resolved_by = \(alert.resolvedBy), queued_at = 0
            WHERE subscription_id = \(alert.subscriptionID) AND alarm = \(alert.alarm)
            """, logger: logger)
        return try await requeue(connection, alert, now: now, logger: logger)
    }

    @discardableResult
    static func requeue(
        _ connection: PostgresConnection, _ alert: Outbox.AlertmanagerAlert, now: Double, logger: Logger
    ) async throws -> Bool {
        var found: (id: Int64, status: String)?
        for try await (id, status) in try await connection.query(
            """
            SELECT id, status FROM deliveries WHERE message_id = \(alert.messageID)
                AND subscription_id = \(alert.subscriptionID) ORDER BY id DESC LIMIT 1
            """, logger: logger
        ).decode((Int64, String).self) {
            found = (id, status)
        }
        guard let found, found.status != "pending" else { return false }
        try await connection.query(
            """
            UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(now), last_error = NULL,
                updated_at = \(now), claimed_until = 0
            WHERE id = \(found.id)
            """, logger: logger)
        try await connection.query(
            """
            UPDATE alertmanager_alerts SET queued_at = \(now)
            WHERE subscription_id = \(alert.subscriptionID) AND alarm = \(alert.alarm)
            """, logger: logger)
        return true
    }

    @discardableResult
    public func refreshAlertmanagerAlerts(firing: Set<String>, interval: Double, now: Double) async throws -> Int {
        let logger = self.logger
        return try await database.transaction { connection in
            var held: Int64 = 0
            for try await count in try await connection.query(
                "SELECT count(*) FROM alertmanager_alerts", logger: logger
            ).decode(Int64.self) {
                held = count
            }
            guard held > 0 else { return 0 }
            try await connection.query(
                "DELETE FROM alertmanager_alerts WHERE subscription_id NOT IN (SELECT id FROM subscriptions)",
                logger: logger)
            var queued = 0
            let alerts = try await Self.alertmanagerAlerts(
                connection.query(
                    "SELECT \(unescaped: Self.alertColumns) FROM alertmanager_alerts ORDER BY subscription_id, alarm FOR UPDATE",
                    logger: logger))
            for var alert in alerts {
                if alert.isFiring {
                    if !firing.contains(alert.alarm) {
                        alert.endsAt = Int64(now)
                        if try await Self.end(connection, alert, now: now, logger: logger) { queued += 1 }
                    } else if alert.queuedAt + interval <= now,
                        try await Self.requeue(connection, alert, now: now, logger: logger)
                    {
                        queued += 1
                    }
                } else if alert.sentState != "resolved" {
                    if now - Double(alert.endsAt ?? 0) > Outbox.resolvedSendWindow {
                        try await connection.query(
                            """
                            DELETE FROM alertmanager_alerts
                            WHERE subscription_id = \(alert.subscriptionID) AND alarm = \(alert.alarm)
                            """, logger: logger)
                    } else if alert.queuedAt + interval <= now,
                        try await Self.requeue(connection, alert, now: now, logger: logger)
                    {
                        queued += 1
                    }
                }
            }
            return queued
        }
    }

    public func alertmanagerAlert(subscriptionID: String, alarm: String) async throws -> Outbox.AlertmanagerAlert? {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.alertmanagerAlert(
                connection, subscriptionID: subscriptionID, alarm: alarm, lock: false, logger: logger)
        }
    }

    public func alertmanagerAlerts() async throws -> [Outbox.AlertmanagerAlert] {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.alertmanagerAlerts(
                connection.query(
                    "SELECT \(unescaped: Self.alertColumns) FROM alertmanager_alerts ORDER BY subscription_id, alarm",
                    logger: logger))
        }
    }

    public func recordAlertmanagerSend(_ alert: Outbox.AlertmanagerAlert, state: String, now: Double) async throws {
        if state == "resolved" {
            try await update(
                """
                DELETE FROM alertmanager_alerts WHERE subscription_id = \(alert.subscriptionID) AND alarm = \(alert.alarm)
                    AND message_id = \(alert.messageID) AND ends_at IS NOT NULL
                """)
        } else {
            try await update(
                """
                UPDATE alertmanager_alerts SET sent_state = \(state), sent_at = \(now)
                WHERE subscription_id = \(alert.subscriptionID) AND alarm = \(alert.alarm)
                    AND message_id = \(alert.messageID)
                """)
        }
    }

    static let alertColumns =
        "subscription_id, alarm, message_id, starts_at, ends_at, resolved_by, queued_at, sent_state, sent_at"

    static func alertmanagerAlert(
        _ connection: PostgresConnection, subscriptionID: String, alarm: String, lock: Bool, logger: Logger
    ) async throws -> Outbox.AlertmanagerAlert? {
        try await alertmanagerAlerts(
            connection.query(
                """
                SELECT \(unescaped: alertColumns) FROM alertmanager_alerts
                WHERE subscription_id = \(subscriptionID) AND alarm = \(alarm) \(unescaped: lock ? "FOR UPDATE" : "")
                """, logger: logger)
        ).first
    }

    static func alertmanagerAlerts(_ rows: PostgresRowSequence) async throws -> [Outbox.AlertmanagerAlert] {
        var out: [Outbox.AlertmanagerAlert] = []
        for try await row in rows {
            let (subscriptionID, alarm, messageID, startsAt, endsAt, resolvedBy, queuedAt, sentState, sentAt) =
                try row.decode((String, String, String, Int64, Int64?, String?, Double, String?, Double?).self)
            out.append(
                Outbox.AlertmanagerAlert(
                    subscriptionID: subscriptionID, alarm: alarm, messageID: messageID, startsAt: startsAt,
                    endsAt: endsAt, resolvedBy: resolvedBy, queuedAt: queuedAt, sentState: sentState, sentAt: sentAt))
        }
        return out
    }
}
