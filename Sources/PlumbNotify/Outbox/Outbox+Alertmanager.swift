import Foundation
import GRDB
import PlumbAPI

extension Outbox {
    /// What one Alertmanager subscription has been told about one alarm: the ALARM message that opened the alert,
    /// when it started and ended, and what was last sent. The delivery of that message is the one re-sent while the
    /// alarm fires and once more, resolved, when it ends; each send reads this row, so a send says what is true when
    /// it goes out, not when it was queued.
    public struct AlertmanagerAlert: Sendable, Equatable {
        public var subscriptionID: String
        public var alarm: String
        /// The ALARM notification whose delivery carries the alert.
        public var messageID: String
        public var startsAt: Int64
        /// Nil while firing.
        public var endsAt: Int64?
        /// The state change that ended it, when one was published (its reason becomes the resolved alert's summary).
        public var resolvedBy: String?
        /// When its delivery was last made pending; 0 when it is owed a send.
        public var queuedAt: Double
        /// `firing` or `resolved`: what the last successful send said.
        public var sentState: String?
        public var sentAt: Double?

        public var isFiring: Bool { endsAt == nil }

        package init(
            subscriptionID: String, alarm: String, messageID: String, startsAt: Int64, endsAt: Int64?,
            resolvedBy: String?, queuedAt: Double, sentState: String?, sentAt: Double?
        ) {
            self.subscriptionID = subscriptionID
            self.alarm = alarm
            self.messageID = messageID
            self.startsAt = startsAt
            self.endsAt = endsAt
            self.resolvedBy = resolvedBy
            self.queuedAt = queuedAt
            self.sentState = sentState
            self.sentAt = sentAt
        }
    }

    /// A resolved alert that cannot be sent is given up after this long: Alertmanager has resolved it on its own by
    /// then, at the `endsAt` of the last firing send.
    package static let resolvedSendWindow: Double = 3_600

    /// Routes an alarm state change to an `alertmanager` subscription; false for any other message, which is
    /// delivered as an alert of its own.
    ///
    /// ALARM opens the alert (or carries on one still firing, keeping its start) and queues this message's delivery.
    /// Any other state ends a firing alert and makes its delivery pending again, to say resolved; for an alarm that is
    /// not firing there, nothing is sent, as there is nothing to resolve.
    static func routeToAlertmanager(
        _ db: Database, messageID: String, topic: String, subscription: Subscription, attributes: [String: String],
        now: Int64
    ) throws -> Bool {
        guard attributes[AlarmMessage.eventAttribute] == AlarmMessage.eventValue, let alarm = attributes["alarm"],
            let state = attributes["state"]
        else { return false }
        let existing = try alertmanagerAlert(db, subscriptionID: subscription.id, alarm: alarm)
        if state == "ALARM" {
            let startsAt = existing.flatMap { $0.isFiring ? $0.startsAt : nil } ?? now
            try db.execute(
                sql: """
                    INSERT INTO alertmanager_alerts (subscription_id, alarm, message_id, starts_at, queued_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (subscription_id, alarm) DO UPDATE SET message_id = excluded.message_id,
                        starts_at = excluded.starts_at, ends_at = NULL, resolved_by = NULL, queued_at = excluded.queued_at,
                        sent_state = NULL, sent_at = NULL
                    """,
                arguments: [subscription.id, alarm, messageID, startsAt, Double(now)])
            try enqueue(
                db, messageID: messageID, topic: topic, subscriptionID: subscription.id,
                definition: subscription.definition, now: now)
        } else if var ended = existing, ended.isFiring {
            ended.endsAt = now
            ended.resolvedBy = messageID
            try end(db, ended, now: Double(now))
        }
        return true
    }

    /// Marks a firing alert ended and makes its delivery pending (or, while it is pending already, owed: `queued_at`
    /// 0 lets the next refresh make it pending). True when it was made pending.
    @discardableResult
    static func end(_ db: Database, _ alert: AlertmanagerAlert, now: Double) throws -> Bool {
        try db.execute(
            sql:
                "UPDATE alertmanager_alerts SET ends_at = ?, resolved_by = ?, queued_at = 0 WHERE subscription_id = ? AND alarm = ?",
            arguments: [alert.endsAt, alert.resolvedBy, alert.subscriptionID, alert.alarm])
        return try requeue(db, alert, now: now)
    }

    /// Makes the alert's delivery pending with a fresh set of attempts, unless it is pending already (that attempt
    /// reads the row when it runs, and the next refresh looks again). True when it was made pending.
    @discardableResult
    static func requeue(_ db: Database, _ alert: AlertmanagerAlert, now: Double) throws -> Bool {
        guard
            let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT id, status FROM deliveries WHERE message_id = ? AND subscription_id = ? ORDER BY id DESC LIMIT 1",
                arguments: [alert.messageID, alert.subscriptionID])
        else { return false }
        guard (row["status"] as String) != "pending" else { return false }
        try db.execute(
            sql: """
                UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [now, now, row["id"] as Int64])
        try db.execute(
            sql: "UPDATE alertmanager_alerts SET queued_at = ? WHERE subscription_id = ? AND alarm = ?",
            arguments: [now, alert.subscriptionID, alert.alarm])
        return true
    }

    /// Keeps every Alertmanager current, as Prometheus keeps its alerts alive: a firing alert whose alarm is still
    /// in ALARM (`firing`) is sent again once per `interval`; one whose alarm left ALARM without a state change
    /// reaching this subscription (no action for the new state, a silence, the alarm deleted) is ended and sent
    /// resolved; a resolved alert whose send failed is tried again each `interval` for an hour. Alerts of removed
    /// subscriptions are dropped. Returns how many deliveries were made pending.
    @discardableResult
    public func refreshAlertmanagerAlerts(firing: Set<String>, interval: Double, now: Double) throws -> Int {
        // Most servers have no Alertmanager: a read, not a write transaction every few seconds.
        let held = try database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alertmanager_alerts") ?? 0
        }
        guard held > 0 else { return 0 }
        return try database.pool.write { db in
            try db.execute(
                sql: "DELETE FROM alertmanager_alerts WHERE subscription_id NOT IN (SELECT id FROM subscriptions)")
            var queued = 0
            for var alert in try Row.fetchAll(db, sql: "SELECT * FROM alertmanager_alerts").map(
                Self.alertmanagerAlert(row:))
            {
                if alert.isFiring {
                    if !firing.contains(alert.alarm) {
                        alert.endsAt = Int64(now)
                        if try Self.end(db, alert, now: now) { queued += 1 }
                    } else if alert.queuedAt + interval <= now, try Self.requeue(db, alert, now: now) {
                        queued += 1
                    }
                } else if alert.sentState != "resolved" {
                    if now - Double(alert.endsAt ?? 0) > Self.resolvedSendWindow {
                        try db.execute(
                            sql: "DELETE FROM alertmanager_alerts WHERE subscription_id = ? AND alarm = ?",
                            arguments: [alert.subscriptionID, alert.alarm])
                    } else if alert.queuedAt + interval <= now, try Self.requeue(db, alert, now: now) {
                        queued += 1
                    }
                }
            }
            return queued
        }
    }

    /// The alert `subscriptionID` holds for `alarm`, if any.
    public func alertmanagerAlert(subscriptionID: String, alarm: String) throws -> AlertmanagerAlert? {
        try database.pool.read { db in try Self.alertmanagerAlert(db, subscriptionID: subscriptionID, alarm: alarm) }
    }

    /// Every alert the Alertmanager subscriptions hold, for tests and diagnostics.
    public func alertmanagerAlerts() throws -> [AlertmanagerAlert] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alertmanager_alerts ORDER BY subscription_id, alarm").map(
                Self.alertmanagerAlert(row:))
        }
    }

    /// Records a successful send of `alert` that said `state`. Once resolved has been said the alert is over and
    /// forgotten; a row replaced meanwhile (the alarm fired again) is left alone.
    public func recordAlertmanagerSend(_ alert: AlertmanagerAlert, state: String, now: Double) throws {
        try database.pool.write { db in
            if state == "resolved" {
                try db.execute(
                    sql:
                        "DELETE FROM alertmanager_alerts WHERE subscription_id = ? AND alarm = ? AND message_id = ? AND ends_at IS NOT NULL",
                    arguments: [alert.subscriptionID, alert.alarm, alert.messageID])
            } else {
                try db.execute(
                    sql:
                        "UPDATE alertmanager_alerts SET sent_state = ?, sent_at = ? WHERE subscription_id = ? AND alarm = ? AND message_id = ?",
                    arguments: [state, now, alert.subscriptionID, alert.alarm, alert.messageID])
            }
        }
    }

    static func alertmanagerAlert(_ db: Database, subscriptionID: String, alarm: String) throws -> AlertmanagerAlert? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM alertmanager_alerts WHERE subscription_id = ? AND alarm = ?",
            arguments: [subscriptionID, alarm]
        ).map(alertmanagerAlert(row:))
    }

    static func alertmanagerAlert(row: Row) -> AlertmanagerAlert {
        AlertmanagerAlert(
            subscriptionID: row["subscription_id"], alarm: row["alarm"], messageID: row["message_id"],
            startsAt: row["starts_at"],
            endsAt: row["ends_at"], resolvedBy: row["resolved_by"], queuedAt: row["queued_at"],
            sentState: row["sent_state"],
            sentAt: row["sent_at"])
    }
}
