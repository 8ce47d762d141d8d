import Foundation
import PlumbAPI
import PlumbNotify
import PlumbPostgres
import PlumbStore
import PlumbTesting
import Synchronization
import Testing

/// What every notification store must do the same way, against each backend: the embedded SQLite file and PostgreSQL
/// (a fresh database on the process's shared server). The last cases are the cluster's: several nodes claiming
/// deliveries from one PostgreSQL store never send one twice, and a node that dies mid-send leaves its claim to lapse.
@Suite("Notification store conformance")
struct NotificationStoreConformanceTests {
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// A store on `directory` (SQLite) or a fresh database; `node` names the claimer. The second value lives as
        /// long as the store (a pool's runner).
        let open: @Sendable (_ directory: String) async throws -> Opened
        var description: String { name }
    }

    /// A store, and a way to open another one on the same data (another node); `pools` keeps their connection
    /// pools running until the test ends.
    struct Opened: Sendable {
        let store: any NotificationStoring
        let another: @Sendable (_ node: String) async throws -> any NotificationStoring
        let pools: Pools
    }

    final class Pools: Sendable {
        let runners = Mutex<[PoolRunner]>([])
        func keep(_ runner: PoolRunner) { runners.withLock { $0.append(runner) } }
    }

    final class PoolRunner: Sendable {
        let database: PostgresStore
        init(_ database: PostgresStore) {
            self.database = database
            database.start()
        }
        deinit { database.stop() }
    }

    static func postgres(_ url: String) throws -> PoolRunner {
        var settings = try PostgresSettings(url: url)
        settings.timeout = .seconds(60)
        return PoolRunner(try PostgresStore(settings: settings, maximumConnections: 4))
    }

    static let sqlite = Backend(
        name: "SQLite",
        open: { directory in
            let secrets = try SecretBox.load(dataDirectory: directory)
            let store = try Outbox(directory: directory, durability: .full, secrets: secrets)
            return Opened(
                store: store,
                another: { _ in try Outbox(directory: directory, durability: .full, secrets: secrets) }, pools: Pools())
        })

    static let postgres = Backend(
        name: "PostgreSQL",
        open: { directory in
            let url = try await SharedPostgres.shared.freshDatabase()
            let secrets = try SecretBox.load(dataDirectory: directory)
            let pools = Pools()
            let runner = try Self.postgres(url)
            pools.keep(runner)
            let store = try await PostgresOutbox.open(database: runner.database, secrets: secrets, node: "node-1")
            return Opened(
                store: store,
                another: { node in
                    // Another node: a pool of its own on the same database.
                    let other = try Self.postgres(url)
                    pools.keep(other)
                    return try await PostgresOutbox.open(database: other.database, secrets: secrets, node: node)
                }, pools: pools)
        })

    final class SendCounts: Sendable {
        let counts = Mutex<[Int64: Int]>([:])
    }
    static let backends = [sqlite, postgres]
    let now: Int64 = 1_795_341_600

    func with(_ backend: Backend, _ body: (Opened) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let opened = try await backend.open(dir.path)
        defer { withExtendedLifetime(opened.pools) {} }
        try await body(opened)
    }

    static let opsTopic = TopicDefinition(
        name: "ops",
        subscriptions: [
            SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/hook"),
            SubscriptionDefinition(protocol: .email, endpoint: "oncall@example.com"),
        ])

    @Test(
        "publish queues one delivery per confirmed subscription, refuses bad input, and is seen by another node",
        arguments: backends)
    func publish(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics([Self.opsTopic], now: now)
            let pending = try await outbox.subscribe(
                topic: "ops", SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:2/new"),
                publicURL: "http://p", now: now)
            #expect(pending.status == "PendingConfirmation")
            var ids: [String] = []
            for i in 0..<5 {
                ids.append(
                    try await outbox.publish(
                        topic: "ops", subject: "s\(i)", message: "m\(i)", attributes: ["k": "v"], now: now))
            }
            #expect(Set(ids).count == 5)
            for (topic, subject, message) in [
                ("nope", nil, "x"), ("ops", "a\nb", "x"), ("ops", nil, ""),
                ("ops", String(repeating: "s", count: 101), "x"),
            ] as [(String, String?, String)] {
                await #expect(throws: NotifyError.self) {
                    try await outbox.publish(topic: topic, subject: subject, message: message, now: now)
                }
            }
            let other = try await opened.another("node-2")
            let queued = try await other.deliveries(topic: "ops", status: "pending", limit: 1_000, before: nil)
            #expect(queued.count == 5 * 2 + 1)
            #expect(Set(queued.map(\.messageID)).isSuperset(of: ids))
            #expect(try await other.deliveryCounts() == ["pending": 11])
            let message = try #require(try await other.message(id: ids[2]))
            #expect(
                message.subject == "s2" && message.message == "m2" && message.attributes == ["k": "v"]
                    && message.type == "Notification" && message.createdAt == now)
            let page = try await other.deliveries(topic: nil, status: nil, limit: 3, before: queued[2].id)
            #expect(page.map(\.id) == queued.dropFirst(3).prefix(3).map(\.id), "newest first, paged by id")
        }
    }

    @Test("a confirmation token confirms once and expires; a webhook secret is stored sealed", arguments: backends)
    func confirmation(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            try await outbox.createTopic("t", deliveryPolicy: nil, now: now)
            #expect(try await outbox.createTopic("t", deliveryPolicy: nil, now: now + 5).createdAt == now)
            let sub = try await outbox.subscribe(
                topic: "t",
                SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:3/h", secret: "s3cret"),
                publicURL: "http://p", now: now)
            #expect(try await outbox.subscription(id: sub.id)?.definition.secret == "s3cret")
            let again = try await outbox.subscribe(
                topic: "t", SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:3/h"),
                publicURL: "http://p", now: now)
            #expect(again.id == sub.id, "subscribing the same endpoint again returns the subscription")
            let delivery = try #require(
                try await outbox.deliveries(topic: nil, status: nil, limit: 10, before: nil).first)
            let message = try #require(try await outbox.message(id: delivery.messageID))
            #expect(message.type == "SubscriptionConfirmation")
            let token = try #require(message.attributes["token"])
            #expect(message.attributes["subscribeURL"] == "http://p/subscriptions/confirm?token=\(token)")
            await #expect(throws: NotifyError.self) {
                try await outbox.confirm(token: token, now: now + Outbox.tokenLifetime + 1)
            }
            let confirmed = try await outbox.confirm(token: token, now: now + 60)
            #expect(confirmed.id == sub.id && confirmed.status == "Confirmed")
            await #expect(throws: NotifyError.self) { try await outbox.confirm(token: token, now: now + 61) }
            _ = try await outbox.publish(topic: "t", subject: nil, message: "hello", now: now)
            #expect(try await outbox.deliveries(topic: "t", status: nil, limit: 10, before: nil).count == 2)
            try await outbox.unsubscribe(id: sub.id)
            #expect(try await outbox.subscriptions(topic: "t").isEmpty)
            do {
                try await outbox.unsubscribe(id: sub.id)
                Issue.record("unsubscribing twice must fail")
            } catch let error as NotifyError { #expect(error.status == 404) }
        }
    }

    @Test(
        "file topics: ids kept across reloads, API topics left alone, file subscriptions not removable",
        arguments: backends)
    func fileTopics(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            let hook = SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/hook")
            try await outbox.syncFileTopics([TopicDefinition(name: "ops", subscriptions: [hook])], now: now)
            try await outbox.createTopic("api-made", deliveryPolicy: nil, now: now)
            let first = try await outbox.subscriptions(topic: "ops").map(\.id)
            try await outbox.syncFileTopics([Self.opsTopic], now: now)
            let second = try await outbox.subscriptions(topic: "ops").map(\.id)
            #expect(second.count == 2 && second.contains(first[0]))
            do {
                try await outbox.unsubscribe(id: first[0])
                Issue.record("a file subscription cannot be removed through the API")
            } catch let error as NotifyError { #expect(error.status == 409) }
            try await outbox.syncFileTopics([], now: now)
            #expect(try await outbox.topics().map(\.name) == ["api-made"])
            #expect(try await outbox.subscriptions().isEmpty)
        }
    }

    @Test(
        "delivery policies set on API topics and subscriptions, cleared again; a deleted topic takes its subscriptions",
        arguments: backends)
    func policiesAndDeletion(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics([Self.opsTopic], now: now)
            try await outbox.createTopic("api", deliveryPolicy: nil, now: now)
            let sub = try await outbox.subscribe(
                topic: "api", SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:4/h"),
                publicURL: "http://p", now: now)
            var policy = DeliveryPolicy()
            policy.numRetries = 7
            policy.backoff = .exponential
            policy.maxDelay = 60
            try await outbox.setDeliveryPolicy(topic: "api", policy)
            try await outbox.setDeliveryPolicy(subscription: sub.id, policy)
            let other = try await opened.another("node-2")
            #expect(try await other.topic("api")?.deliveryPolicy == policy)
            #expect(try await other.subscription(id: sub.id)?.definition.deliveryPolicy == policy)
            try await outbox.setDeliveryPolicy(subscription: sub.id, nil)
            #expect(try await other.subscription(id: sub.id)?.definition.deliveryPolicy == nil)
            var bad = DeliveryPolicy()
            bad.numRetries = -1
            await #expect(throws: NotifyError.self) { try await outbox.setDeliveryPolicy(topic: "api", bad) }

            func status(_ body: () async throws -> Void) async -> Int? {
                do {
                    try await body()
                    return nil
                } catch let error as NotifyError { return error.status } catch { return 0 }
            }
            let fileSub = try #require(try await outbox.subscriptions(topic: "ops").first)
            #expect(await status { try await outbox.setDeliveryPolicy(topic: "ops", policy) } == 409)
            #expect(await status { try await outbox.setDeliveryPolicy(subscription: fileSub.id, policy) } == 409)
            #expect(await status { try await outbox.deleteTopic("ops") } == 409)
            #expect(await status { try await outbox.setDeliveryPolicy(topic: "nope", policy) } == 404)
            #expect(await status { try await outbox.setDeliveryPolicy(subscription: "sub-nope", nil) } == 404)

            try await outbox.deleteTopic("api")
            #expect(try await other.topics().map(\.name) == ["ops"])
            #expect(try await other.subscription(id: sub.id) == nil)
            #expect(try await other.subscriptions(topic: "ops").count == 2, "other topics keep theirs")
            #expect(await status { try await outbox.deleteTopic("api") } == 404)
            await #expect(throws: NotifyError.self) {
                try await outbox.publish(topic: "api", subject: nil, message: "x", now: now)
            }
        }
    }

    @Test("a delivery's life: due, retried later, failed, redriven, delivered", arguments: backends)
    func deliveryLife(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics(
                [TopicDefinition(name: "ops", subscriptions: [Self.opsTopic.subscriptions[0]])], now: now)
            let id = try await outbox.publish(topic: "ops", subject: nil, message: "m", now: now)
            let t = Double(now)
            let due = try await outbox.due(now: t, limit: 10, excluding: [])
            #expect(due.map(\.messageID) == [id] && due[0].attempts == 0)
            #expect(try await outbox.due(now: t, limit: 10, excluding: [due[0].id]).isEmpty)
            try await outbox.markRetry(due[0].id, attempts: 1, nextAttemptAt: t + 20, error: "HTTP 503", now: t)
            #expect(try await outbox.due(now: t + 19, limit: 10, excluding: []).isEmpty, "not before its next attempt")
            let retried = try await outbox.due(now: t + 20, limit: 10, excluding: [])
            #expect(retried.map(\.id) == [due[0].id] && retried[0].attempts == 1 && retried[0].lastError == "HTTP 503")
            try await outbox.markFailed(due[0].id, attempts: 4, error: "gave up", now: t + 21)
            #expect(try await outbox.due(now: t + 1_000, limit: 10, excluding: []).isEmpty)
            await #expect(throws: NotifyError.self) { try await outbox.redrive(due[0].id + 1_000, now: t) }
            let redriven = try await outbox.redrive(due[0].id, now: t + 30)
            #expect(redriven.status == "pending" && redriven.attempts == 0)
            await #expect(throws: NotifyError.self) { try await outbox.redrive(due[0].id, now: t + 31) }
            #expect(try await outbox.due(now: t + 30, limit: 10, excluding: []).count == 1)
            try await outbox.markDelivered(due[0].id, attempts: 1, now: t + 31)
            let done = try await outbox.deliveries(topic: "ops", status: "delivered", limit: 10, before: nil)
            #expect(done.count == 1 && done[0].deliveredAt == t + 31 && done[0].lastError == nil)
            #expect(try await outbox.deliveryCounts() == ["delivered": 1])
        }
    }

    @Test("an alarm's alert at an Alertmanager: opened, ended, requeued, superseded, forgotten", arguments: backends)
    func alertmanager(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics(
                [
                    TopicDefinition(
                        name: "ops",
                        subscriptions: [
                            SubscriptionDefinition(protocol: .alertmanager, endpoint: "http://127.0.0.1:9093")
                        ]
                    )
                ], now: now)
            let sub = try #require(try await outbox.subscriptions(topic: "ops").first?.id)
            func publish(_ state: String, at time: Int64) async throws -> String {
                try await outbox.publish(
                    topic: "ops", subject: "\(state): api-errors", message: "{}",
                    attributes: [
                        AlarmMessage.eventAttribute: AlarmMessage.eventValue, "alarm": "api-errors", "state": state,
                    ],
                    now: time)
            }
            let first = try await publish("ALARM", at: now)
            var alert = try #require(try await outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
            #expect(alert.messageID == first && alert.isFiring && alert.startsAt == now)
            let delivery = try #require(try await outbox.due(now: Double(now), limit: 10, excluding: []).first)
            try await outbox.markDelivered(delivery.id, attempts: 1, now: Double(now + 1))
            try await outbox.recordAlertmanagerSend(alert, state: "firing", now: Double(now + 1))
            // Still firing a resend interval later: the same delivery goes out again.
            #expect(
                try await outbox.refreshAlertmanagerAlerts(firing: ["api-errors"], interval: 60, now: Double(now + 61))
                    == 1)
            #expect(try await outbox.due(now: Double(now + 61), limit: 10, excluding: []).map(\.id) == [delivery.id])
            try await outbox.markDelivered(delivery.id, attempts: 1, now: Double(now + 62))
            // OK ends it and makes the same delivery pending to say resolved.
            let ok = try await publish("OK", at: now + 70)
            alert = try #require(try await outbox.alertmanagerAlert(subscriptionID: sub, alarm: "api-errors"))
            #expect(alert.endsAt == now + 70 && alert.resolvedBy == ok && alert.messageID == first)
            #expect(try await outbox.due(now: Double(now + 70), limit: 10, excluding: []).map(\.id) == [delivery.id])
            try await outbox.recordAlertmanagerSend(alert, state: "resolved", now: Double(now + 71))
            #expect(try await outbox.alertmanagerAlerts().isEmpty, "once resolved has been said the alert is over")
            // Firing again, then the subscription goes: its alerts go with it.
            _ = try await publish("ALARM", at: now + 80)
            #expect(try await outbox.alertmanagerAlerts().count == 1)
            try await outbox.syncFileTopics([TopicDefinition(name: "ops")], now: now + 90)
            try await outbox.refreshAlertmanagerAlerts(firing: ["api-errors"], interval: 60, now: Double(now + 90))
            #expect(try await outbox.alertmanagerAlerts().isEmpty)
        }
    }

    // MARK: Several nodes on one PostgreSQL

    @Test("three nodes claiming at once send each of 300 deliveries exactly once")
    func claimsAreExclusive() async throws {
        try await with(Self.postgres) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics(
                [TopicDefinition(name: "ops", subscriptions: [Self.opsTopic.subscriptions[0]])], now: now)
            for i in 0..<300 { _ = try await outbox.publish(topic: "ops", subject: nil, message: "m\(i)", now: now) }
            let nodes = [outbox, try await opened.another("node-2"), try await opened.another("node-3")]
            let sent = SendCounts()
            let t = Double(now)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes {
                    group.addTask {
                        while true {
                            let batch = try await node.due(now: t, limit: 7, excluding: [])
                            if batch.isEmpty { return }
                            for delivery in batch {
                                sent.counts.withLock { $0[delivery.id, default: 0] += 1 }
                                try await node.markDelivered(delivery.id, attempts: 1, now: t)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = sent.counts.withLock { $0 }
            #expect(counts.count == 300 && counts.values.allSatisfy { $0 == 1 }, "\(counts.filter { $0.value != 1 })")
            #expect(try await outbox.deliveryCounts() == ["delivered": 300])
        }
    }

    @Test("a claim holds the delivery from other nodes until it lapses (the claimer died mid-send)")
    func claimsLapse() async throws {
        try await with(Self.postgres) { opened in
            let outbox = opened.store
            try await outbox.syncFileTopics(
                [TopicDefinition(name: "ops", subscriptions: [Self.opsTopic.subscriptions[0]])], now: now)
            let id = try await outbox.publish(topic: "ops", subject: nil, message: "m", now: now)
            let other = try await opened.another("node-2")
            let t = Double(now)
            #expect(try await outbox.due(now: t, limit: 10, excluding: []).map(\.messageID) == [id])
            #expect(try await other.due(now: t + 1, limit: 10, excluding: []).isEmpty)
            #expect(try await other.due(now: t + Outbox.claimDuration - 1, limit: 10, excluding: []).isEmpty)
            let taken = try await other.due(now: t + Outbox.claimDuration, limit: 10, excluding: [])
            #expect(taken.map(\.messageID) == [id], "the same message id, sent by the node that took it over")
            // The node that took it over records the attempt; the first one, late, records nothing over it.
            try await other.markDelivered(taken[0].id, attempts: 1, now: t + Outbox.claimDuration + 1)
            try await outbox.markFailed(taken[0].id, attempts: 1, error: "late", now: t + Outbox.claimDuration + 2)
            let kept = try await other.deliveries(topic: "ops", status: nil, limit: 10, before: nil)
            #expect(kept.map(\.status) == ["delivered"] && kept[0].lastError == nil)
        }
    }
}
