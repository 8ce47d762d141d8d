import GRDB

/// Changes to what the API made: a topic's or a subscription's delivery policy, and a topic's deletion (SNS's
/// SetTopicAttributes, SetSubscriptionAttributes and DeleteTopic). What an alert file declares is the file's.
extension Outbox {
    public func setDeliveryPolicy(topic: String, _ policy: DeliveryPolicy?) throws {
        if let problem = policy?.validate() { throw NotifyError("delivery_policy: \(problem)") }
        try database.pool.write { db in
            try Self.requireAPI(db, "SELECT source FROM topics WHERE name = ?", topic, what: "topic")
            try db.execute(
                sql: "UPDATE topics SET policy = ? WHERE name = ?", arguments: [Self.json(policy), topic])
        }
    }

    public func setDeliveryPolicy(subscription id: String, _ policy: DeliveryPolicy?) throws {
        if let problem = policy?.validate() { throw NotifyError("delivery_policy: \(problem)") }
        try database.pool.write { db in
            try Self.requireAPI(db, "SELECT source FROM subscriptions WHERE id = ?", id, what: "subscription")
            try db.execute(
                sql: "UPDATE subscriptions SET policy = ? WHERE id = ?", arguments: [Self.json(policy), id])
        }
    }

    public func deleteTopic(_ name: String) throws {
        try database.pool.write { db in
            try Self.requireAPI(db, "SELECT source FROM topics WHERE name = ?", name, what: "topic")
            try db.execute(sql: "DELETE FROM subscriptions WHERE topic = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM topics WHERE name = ?", arguments: [name])
        }
    }

    /// Refuses a topic or subscription that does not exist (404) or that an alert file declares (409).
    static func requireAPI(_ db: Database, _ sql: String, _ key: String, what: String) throws {
        guard let source = try String.fetchOne(db, sql: sql, arguments: [key]) else {
            throw NotifyError(status: 404, code: "NotFound", "no \(what) '\(key)'")
        }
        guard source == "api" else {
            throw NotifyError(
                status: 409, code: "ResourceConflict",
                "\(what) '\(key)' is declared in an alert file; edit the file and reload")
        }
    }
}
