import Foundation
import PlumbNotify
import PlumbStore
import PlumbTesting
import Testing

@Suite struct OutboxTests {
    let now: Int64 = 1_795_341_600

    @Test func publishQueuesOneDeliveryPerConfirmedSubscriptionAndSurvivesReopen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var ids: [String] = []
        do {
            let outbox = try Outbox(directory: dir.path, durability: .full)
            try outbox.syncFileTopics(
                [
                    TopicDefinition(
                        name: "ops",
                        subscriptions: [
                            SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/hook"),
                            SubscriptionDefinition(protocol: .email, endpoint: "oncall@example.com"),
                        ])
                ], now: now)
            // An API subscription waits for confirmation and receives only its confirmation request.
            let pending = try outbox.subscribe(
                topic: "ops", SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:2/new"),
                publicURL: "http://p", now: now)
            #expect(pending.status == "PendingConfirmation")
            for i in 0..<5 {
                ids.append(try outbox.publish(topic: "ops", subject: "s\(i)", message: "m\(i)", now: now))
            }
            #expect(Set(ids).count == 5)
            #expect(throws: NotifyError.self) {
                try outbox.publish(topic: "nope", subject: nil, message: "x", now: now)
            }
            #expect(throws: NotifyError.self) {
                try outbox.publish(topic: "ops", subject: "a\nb", message: "x", now: now)
            }
        }
        let reopened = try Outbox(directory: dir.path, durability: .full)
        let pending = try reopened.deliveries(status: "pending", limit: 1_000)
        #expect(pending.count == 5 * 2 + 1)
        #expect(Set(pending.map(\.messageID)).isSuperset(of: ids))
        #expect(pending.filter { $0.endpoint == "http://127.0.0.1:2/new" }.count == 1)
    }

    @Test func confirmationTokenConfirmsOnceAndExpires() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let outbox = try Outbox(directory: dir.path, durability: .normal)
        try outbox.createTopic("t", deliveryPolicy: nil, now: now)
        let sub = try outbox.subscribe(
            topic: "t", SubscriptionDefinition(protocol: .email, endpoint: "a@example.com"), publicURL: "http://p",
            now: now)
        let delivery = try #require(try outbox.deliveries(limit: 10).first)
        let message = try #require(try outbox.message(id: delivery.messageID))
        #expect(message.type == "SubscriptionConfirmation")
        let token = try #require(message.attributes["token"])
        #expect(message.attributes["subscribeURL"] == "http://p/subscriptions/confirm?token=\(token)")
        #expect(throws: NotifyError.self) { try outbox.confirm(token: token, now: now + Outbox.tokenLifetime + 1) }
        let confirmed = try outbox.confirm(token: token, now: now + 60)
        #expect(confirmed.id == sub.id && confirmed.status == "Confirmed")
        #expect(throws: NotifyError.self) { try outbox.confirm(token: token, now: now + 61) }
        _ = try outbox.publish(topic: "t", subject: nil, message: "hello", now: now)
        #expect(try outbox.deliveries(limit: 10).count == 2)
    }

    @Test func fileSubscriptionsKeepTheirIdsAcrossReloads() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let outbox = try Outbox(directory: dir.path, durability: .normal)
        let hook = SubscriptionDefinition(protocol: .webhook, endpoint: "http://127.0.0.1:1/hook")
        try outbox.syncFileTopics([TopicDefinition(name: "ops", subscriptions: [hook])], now: now)
        let first = try outbox.subscriptions(topic: "ops").map(\.id)
        try outbox.syncFileTopics(
            [
                TopicDefinition(
                    name: "ops",
                    subscriptions: [hook, SubscriptionDefinition(protocol: .email, endpoint: "x@example.com")])
            ], now: now)
        let second = try outbox.subscriptions(topic: "ops").map(\.id)
        #expect(second.count == 2 && second.contains(first[0]))
        try outbox.syncFileTopics([], now: now)
        #expect(try outbox.topics().isEmpty)
    }
}
