/// Where topics, subscriptions, published messages and their deliveries are kept: the embedded SQLite file
/// (`Outbox`, the default) or PostgreSQL, shared by the nodes of a cluster so that a topic made on one node exists on
/// every node and each delivery is sent by one node (`due` claims what it returns).
///
/// `publish` commits the message and one pending delivery per confirmed subscription before it returns, so an
/// accepted notification survives a crash. Every backend passes the same conformance suite
/// (`NotificationStoreConformanceTests`). Times are epoch seconds.
public protocol NotificationStoring: Sendable {
    // MARK: Topics and subscriptions

    /// Makes the file-declared topics and subscriptions exactly `topics`; API ones are left alone.
    func syncFileTopics(_ topics: [TopicDefinition], now: Int64) async throws
    /// Creates a topic (idempotent, as SNS CreateTopic).
    @discardableResult
    func createTopic(_ name: String, deliveryPolicy: DeliveryPolicy?, now: Int64) async throws -> Outbox.Topic
    func topics() async throws -> [Outbox.Topic]
    func topic(_ name: String) async throws -> Outbox.Topic?
    func subscriptions(topic: String?) async throws -> [Outbox.Subscription]
    func subscription(id: String) async throws -> Outbox.Subscription?
    /// Subscribes an endpoint through the API: `PendingConfirmation` until the token sent to the endpoint comes back
    /// (SNS's SubscribeURL flow); the confirmation request is queued in the same commit.
    func subscribe(
        topic: String, _ definition: SubscriptionDefinition, publicURL: String, now: Int64
    ) async throws -> Outbox.Subscription
    /// Confirms the subscription that `token` was sent to.
    func confirm(token: String, now: Int64) async throws -> Outbox.Subscription
    func unsubscribe(id: String) async throws
    /// Sets a topic's delivery policy (nil: the defaults), as SNS's SetTopicAttributes; a topic declared in an alert
    /// file is refused (409), an unknown one is a 404.
    func setDeliveryPolicy(topic: String, _ policy: DeliveryPolicy?) async throws
    /// Sets a subscription's delivery policy (nil: the topic's), as SNS's SetSubscriptionAttributes; it governs the
    /// next attempt of deliveries already queued too. Alert-file subscriptions are refused (409).
    func setDeliveryPolicy(subscription id: String, _ policy: DeliveryPolicy?) async throws
    /// Deletes a topic made through an API with its subscriptions (SNS's DeleteTopic); deliveries already queued fail
    /// at their next attempt, their subscription gone. Alert-file topics are refused (409), an unknown one is a 404.
    func deleteTopic(_ name: String) async throws

    // MARK: Publishing and delivering

    /// Stores the message and a pending delivery per confirmed subscription, durably, then returns its id.
    @discardableResult
    func publish(
        topic: String, subject: String?, message: String, attributes: [String: String], now: Int64
    ) async throws -> String
    /// Pending deliveries due at `now`, oldest first, skipping `excluding` (this node's in flight). A shared store
    /// claims them for this node for `Outbox.claimDuration`: no other node gets them until they are recorded or
    /// the claim lapses (the node died mid-send).
    func due(now: Double, limit: Int, excluding: Set<Int64>) async throws -> [Outbox.Delivery]
    func message(id: String) async throws -> Outbox.Message?
    func markDelivered(_ id: Int64, attempts: Int, now: Double) async throws
    func markRetry(_ id: Int64, attempts: Int, nextAttemptAt: Double, error: String, now: Double) async throws
    /// Gives up on a delivery: it stays visible as `failed` (the dead-letter list).
    func markFailed(_ id: Int64, attempts: Int, error: String, now: Double) async throws
    /// Records a delivery that was not sent because a later one carries what it would have said.
    func markSuperseded(_ id: Int64, attempts: Int, reason: String, now: Double) async throws
    /// Sends a failed delivery again from scratch (redrive from the dead-letter list).
    func redrive(_ id: Int64, now: Double) async throws -> Outbox.Delivery
    /// Deliveries, newest first, filtered by topic and status; `before` pages by id.
    func deliveries(topic: String?, status: String?, limit: Int, before: Int64?) async throws -> [Outbox.Delivery]
    /// Counts by status.
    func deliveryCounts() async throws -> [String: Int]

    // MARK: Alertmanager

    /// Keeps every Alertmanager current (see `Outbox.refreshAlertmanagerAlerts`); returns how many deliveries were
    /// made pending.
    @discardableResult
    func refreshAlertmanagerAlerts(firing: Set<String>, interval: Double, now: Double) async throws -> Int
    func alertmanagerAlert(subscriptionID: String, alarm: String) async throws -> Outbox.AlertmanagerAlert?
    func alertmanagerAlerts() async throws -> [Outbox.AlertmanagerAlert]
    /// Records a successful send of `alert` that said `state`.
    func recordAlertmanagerSend(_ alert: Outbox.AlertmanagerAlert, state: String, now: Double) async throws
}

extension NotificationStoring {
    public func subscriptions() async throws -> [Outbox.Subscription] { try await subscriptions(topic: nil) }

    @discardableResult
    public func publish(topic: String, subject: String?, message: String, now: Int64) async throws -> String {
        try await publish(topic: topic, subject: subject, message: message, attributes: [:], now: now)
    }

    public func deliveries(
        topic: String? = nil, status: String? = nil, limit: Int = 100, before: Int64? = nil
    ) async throws -> [Outbox.Delivery] {
        try await deliveries(topic: topic, status: status, limit: limit, before: before)
    }
}

extension Outbox: NotificationStoring {}
