import Foundation
import PlumbHost
import PlumbTesting
import Synchronization
import Testing

/// Lambda's async retry rules under an injected clock.
@Suite struct AsyncEventQueueTests {
    final class Calls: Sendable {
        let times = Mutex<[Double]>([])
        let failures = Mutex<[String]>([])
    }

    @Test func aFunctionThatFailsTwiceIsRetriedExactlyTwiceAtOneThenTwoMinutes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let queue = try AsyncEventQueue(directory: dir.path, durability: .normal)
        let calls = Calls()
        let clock = Mutex<Double>(1_000)
        let dispatcher = AsyncDispatcher(
            queue: queue, settings: { _ in .init() },
            invoke: { _ in
                let n = calls.times.withLock { t in
                    t.append(clock.withLock { $0 })
                    return t.count
                }
                return n <= 2 ? .functionError("boom \(n)") : .success
            },
            onFailure: { _, reason in calls.failures.withLock { $0.append(reason) } })
        let id = try queue.enqueue(function: "probe.event", payload: Array(#"{"n":1}"#.utf8), now: 1_000)
        // Tick every second for 5 minutes.
        for t in stride(from: 1_000.0, through: 1_300, by: 1) {
            clock.withLock { $0 = t }
            try await dispatcher.runDue(now: t)
        }
        #expect(calls.times.withLock { $0 } == [1_000, 1_060, 1_180])
        let event = try #require(try queue.event(id: id))
        #expect(event.status == "succeeded" && event.attempts == 3 && event.functionErrors == 2)
        #expect(calls.failures.withLock { $0 }.isEmpty)
    }

    @Test func anAlwaysFailingFunctionEndsOnItsFailureDestinationWithTheError() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let queue = try AsyncEventQueue(directory: dir.path, durability: .normal)
        let calls = Calls()
        let dispatcher = AsyncDispatcher(
            queue: queue, settings: { _ in .init(maximumRetryAttempts: 1) },
            invoke: { _ in
                calls.times.withLock { $0.append(0) }
                return .functionError("payment service returned 503")
            },
            onFailure: { event, reason in calls.failures.withLock { $0.append("\(event.function): \(reason)") } })
        try queue.enqueue(function: "billing.charge", payload: [], now: 0)
        for t in stride(from: 0.0, through: 600, by: 5) { try await dispatcher.runDue(now: t) }
        #expect(calls.times.withLock { $0.count } == 2, "one try and one retry")
        #expect(
            calls.failures.withLock { $0 } == [
                "billing.charge: function error after 2 attempts: payment service returned 503"
            ])
        #expect(try await queue.events(status: "failed").count == 1)
    }

    @Test func throttlesBackOffUpToFiveMinutesUntilTheEventIsTooOld() {
        let settings = AsyncEventQueue.Settings(maximumRetryAttempts: 2, maximumEventAge: 3_600)
        var event = AsyncEventQueue.Event(
            id: 1, function: "f", payload: [], receivedAt: 0, attempts: 0, functionErrors: 0, nextAttemptAt: 0,
            status: "pending", lastError: nil)
        var now = 0.0
        var delays: [Double] = []
        while case .retry(let at) = AsyncEventQueue.disposition(
            of: event, after: .throttled("429"), now: now, settings: settings)
        {
            delays.append(at - now)
            now = at
            event.attempts += 1
        }
        #expect(Array(delays.prefix(10)) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300])
        #expect(delays.dropFirst(9).allSatisfy { $0 == 300 })
        #expect(now <= 3_600 && now > 3_600 - 300)
        if case .failed(let reason) = AsyncEventQueue.disposition(
            of: event, after: .throttled("429"), now: now, settings: settings)
        {
            #expect(reason.contains("older than 3600 s"))
        } else {
            Issue.record("a too-old event was retried")
        }
    }

    @Test func queuedEventsSurviveReopening() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        do {
            let queue = try AsyncEventQueue(directory: dir.path, durability: .full)
            for i in 0..<50 { try queue.enqueue(function: "f", payload: Array("\(i)".utf8), now: Double(i)) }
        }
        let reopened = try AsyncEventQueue(directory: dir.path, durability: .full)
        let due = try reopened.due(now: 100, limit: 1_000)
        #expect(due.count == 50)
        #expect(due.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<50).map(String.init))
        #expect(AsyncEventQueue.Settings(maximumRetryAttempts: 3).validate() != nil)
        #expect(AsyncEventQueue.Settings(maximumEventAge: 30).validate() != nil)
    }
}
