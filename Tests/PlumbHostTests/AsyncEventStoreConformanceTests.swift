import Foundation
import PlumbHost
import PlumbPostgres
import PlumbTesting
import Synchronization
import Testing

/// What every async event store must do the same way, against the embedded SQLite file and PostgreSQL (a fresh
/// database on the process's shared server): Lambda's retry rules through the dispatcher, the schedules' last runs,
/// and, on PostgreSQL, several nodes claiming events without running one twice.
@Suite("Async event store conformance")
struct AsyncEventStoreConformanceTests {
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// A store (on `directory` for SQLite), and another node's view of the same data.
        let open: @Sendable (_ directory: String) async throws -> Opened
        var description: String { name }
    }

    /// A store and another node's; `pools` keeps their connection pools running until the test ends.
    struct Opened: Sendable {
        let store: any AsyncEventStoring
        let another: @Sendable (_ node: String) async throws -> any AsyncEventStoring
        var pools = Pools()
    }

    final class Pools: Sendable {
        let runners = Mutex<[PoolRunner]>([])
        func keep(_ runner: PoolRunner) { runners.withLock { $0.append(runner) } }
    }

    final class PoolRunner: Sendable {
        let database: PostgresStore
        init(_ url: String) throws {
            var settings = try PostgresSettings(url: url)
            settings.timeout = .seconds(60)
            database = try PostgresStore(settings: settings, maximumConnections: 4)
            database.start()
        }
        deinit { database.stop() }
    }

    static let sqlite = Backend(
        name: "SQLite",
        open: { directory in
            Opened(
                store: try AsyncEventQueue(directory: directory, durability: .full),
                another: { _ in try AsyncEventQueue(directory: directory, durability: .full) })
        })

    static let postgres = Backend(
        name: "PostgreSQL",
        open: { _ in
            let url = try await SharedPostgres.shared.freshDatabase()
            let pools = Pools()
            @Sendable func node(_ name: String) async throws -> any AsyncEventStoring {
                let runner = try PoolRunner(url)
                pools.keep(runner)
                return try await PostgresAsyncEventQueue.open(database: runner.database, node: name)
            }
            return Opened(store: try await node("node-1"), another: { try await node($0) }, pools: pools)
        })

    static let backends = [sqlite, postgres]

    func with(_ backend: Backend, _ body: (Opened) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let opened = try await backend.open(dir.path)
        defer { withExtendedLifetime(opened.pools) {} }
        try await body(opened)
    }

    final class Calls: Sendable {
        let times = Mutex<[Double]>([])
        let failures = Mutex<[String]>([])
        let runs = Mutex<[Int64: Int]>([:])
    }

    @Test("a function that fails twice is retried at 1 and then 2 minutes, and succeeds", arguments: backends)
    func retries(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let queue = opened.store
            let calls = Calls()
            let dispatcher = AsyncDispatcher(
                queue: queue, settings: { _ in .init() },
                invoke: { event in
                    let n = calls.times.withLock { t in
                        t.append(event.nextAttemptAt)
                        return t.count
                    }
                    return n <= 2 ? .functionError("boom \(n)") : .success
                },
                onFailure: { _, reason in calls.failures.withLock { $0.append(reason) } })
            let id = try await queue.enqueue(function: "probe.event", payload: Array(#"{"n":1}"#.utf8), now: 1_000)
            for t in stride(from: 1_000.0, through: 1_300, by: 5) { try await dispatcher.runDue(now: t) }
            #expect(calls.times.withLock { $0 } == [1_000, 1_060, 1_180])
            let event = try #require(try await queue.event(id: id))
            #expect(event.status == "succeeded" && event.attempts == 3 && event.functionErrors == 2)
            #expect(event.payload == Array(#"{"n":1}"#.utf8) && event.lastError == nil, "a success clears the error")
            #expect(calls.failures.withLock { $0 }.isEmpty)
        }
    }

    @Test("an always failing function ends failed, on its failure destination", arguments: backends)
    func failure(_ backend: Backend) async throws {
        try await with(backend) { opened in
            let queue = opened.store
            let calls = Calls()
            let dispatcher = AsyncDispatcher(
                queue: queue, settings: { _ in .init(maximumRetryAttempts: 1) },
                invoke: { _ in .functionError("payment service returned 503") },
                onFailure: { event, reason in calls.failures.withLock { $0.append("\(event.function): \(reason)") } })
            try await queue.enqueue(function: "billing.charge", payload: [0, 255, 10], now: 0)
            try await queue.enqueue(function: "billing.refund", payload: [], now: 0)
            for t in stride(from: 0.0, through: 600, by: 5) { try await dispatcher.runDue(now: t) }
            #expect(
                calls.failures.withLock { $0 }.sorted() == [
                    "billing.charge: function error after 2 attempts: payment service returned 503",
                    "billing.refund: function error after 2 attempts: payment service returned 503",
                ])
            let failed = try await queue.events(status: "failed")
            #expect(failed.map(\.function) == ["billing.refund", "billing.charge"], "newest first")
            #expect(failed.last?.payload == [0, 255, 10])
            #expect(try await queue.events(status: "pending").isEmpty)
            #expect(try await queue.events(status: nil, limit: 1).count == 1)
        }
    }

    @Test("events wait for their time, oldest first, and are seen by another node", arguments: backends)
    func order(_ backend: Backend) async throws {
        try await with(backend) { opened in
            for i in 0..<50 {
                try await opened.store.enqueue(function: "f", payload: Array("\(i)".utf8), now: Double(i))
            }
            let first = try await opened.store.due(now: 9.5, limit: 1_000)
            #expect(first.map { String(decoding: $0.payload, as: UTF8.self) } == (0..<10).map(String.init))
            // A shared store has claimed those ten for the first node; the embedded one returns them again.
            let other = try await opened.another("node-2")
            let due = try await other.due(now: 100, limit: 1_000)
            #expect(due.suffix(40).map { String(decoding: $0.payload, as: UTF8.self) } == (10..<50).map(String.init))
            #expect(due.count == (backend.name == "SQLite" ? 50 : 40))
        }
    }

    @Test("a schedule's last run is kept where the next leader reads it", arguments: backends)
    func scheduleRuns(_ backend: Backend) async throws {
        try await with(backend) { opened in
            #expect(try await opened.store.lastScheduledRun(of: "reports.nightly") == nil)
            try await opened.store.recordScheduledRun(of: "reports.nightly", at: 1_800_000_000)
            try await opened.store.recordScheduledRun(of: "reports.nightly", at: 1_800_086_400)
            let other = try await opened.another("node-2")
            #expect(try await other.lastScheduledRun(of: "reports.nightly") == 1_800_086_400)
            #expect(try await other.lastScheduledRun(of: "sensors.retrain") == nil)
        }
    }

    @Test("schedule rules are stored, replaced and deleted where every node reads them", arguments: backends)
    func scheduleRules(_ backend: Backend) async throws {
        try await with(backend) { opened in
            #expect(try await opened.store.scheduleRules().isEmpty)
            try await opened.store.putScheduleRule(name: "nightly", document: #"{"Name": "nightly", "v": 1}"#)
            try await opened.store.putScheduleRule(name: "hourly", document: #"{"Name": "hourly"}"#)
            try await opened.store.putScheduleRule(name: "nightly", document: #"{"Name": "nightly", "v": 2}"#)
            let other = try await opened.another("node-2")
            #expect(
                try await other.scheduleRules() == [
                    "nightly": #"{"Name": "nightly", "v": 2}"#, "hourly": #"{"Name": "hourly"}"#,
                ])
            try await other.putScheduleRule(name: "hourly", document: nil)
            #expect(try await opened.store.scheduleRules().keys.sorted() == ["nightly"])
        }
    }

    @Test("three nodes dispatching at once run each of 200 events exactly once")
    func claimsAreExclusive() async throws {
        try await with(Self.postgres) { opened in
            for i in 0..<200 { try await opened.store.enqueue(function: "f", payload: Array("\(i)".utf8), now: 0) }
            let nodes = [opened.store, try await opened.another("node-2"), try await opened.another("node-3")]
            let calls = Calls()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes {
                    group.addTask {
                        let dispatcher = AsyncDispatcher(
                            queue: node, settings: { _ in .init() },
                            invoke: { event in
                                calls.runs.withLock { $0[event.id, default: 0] += 1 }
                                return .success
                            }, onFailure: { _, _ in })
                        while try await dispatcher.runDue(now: 1) > 0 {}
                    }
                }
                try await group.waitForAll()
            }
            let runs = calls.runs.withLock { $0 }
            #expect(runs.count == 200 && runs.values.allSatisfy { $0 == 1 }, "\(runs.filter { $0.value != 1 })")
            #expect(try await opened.store.events(status: "succeeded", limit: 1_000).count == 200)
        }
    }

    @Test("a claimed event waits for its claimer, or for the claim to lapse")
    func claimsLapse() async throws {
        try await with(Self.postgres) { opened in
            let id = try await opened.store.enqueue(function: "f", payload: [], now: 0)
            let other = try await opened.another("node-2")
            #expect(try await opened.store.due(now: 1).map(\.id) == [id])
            #expect(try await other.due(now: 2).isEmpty)
            let taken = try await other.due(now: 1 + AsyncEventQueue.claimDuration)
            #expect(taken.map(\.id) == [id])
            // The node that took it over records the run; the first one, late, records nothing over it.
            try await other.complete(taken[0], outcome: .success, now: 2_000, settings: .init())
            try await opened.store.complete(taken[0], outcome: .functionError("late"), now: 2_001, settings: .init())
            let event = try #require(try await other.event(id: id))
            #expect(event.status == "succeeded" && event.attempts == 1)
        }
    }
}
