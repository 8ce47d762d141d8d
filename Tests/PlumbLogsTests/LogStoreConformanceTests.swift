import Foundation
import PlumbAPI
import PlumbLogs
import PlumbMetrics
import PlumbPostgres
import PlumbTesting
import Synchronization
import Testing

/// What every log backend must do the same way, run against each one (today the embedded SQLite store; the
/// scale-out issue adds PostgreSQL): written and read through the contract only.
@Suite("Log store conformance")
struct LogStoreConformanceTests {
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// The store, and what must live as long as it (a connection pool's runner).
        let open: @Sendable (_ directory: String, _ clock: TestClock) async throws -> (any LogStoring, AnyObject?)
        var description: String { name }
    }

    /// Keeps a PostgreSQL store's connection pool running for as long as the test holds it.
    final class PoolRunner: Sendable {
        let database: PostgresStore
        init(_ database: PostgresStore) {
            self.database = database
            database.start()
        }
        deinit { database.stop() }
    }

    static let backends: [Backend] = [
        Backend(
            name: "SQLite",
            open: { directory, clock in
                (try LogStore(directory: directory, durability: .full, clock: clock.closure), nil)
            }),
        Backend(
            name: "SQLite, half of it in sealed blocks",
            open: { directory, clock in
                (
                    SealingEveryOtherBatch(
                        store: try LogStore(directory: directory, durability: .full, clock: clock.closure)), nil
                )
            }),
        Backend(
            name: "PostgreSQL",
            open: { _, clock in
                // A new database on the process's shared PostgreSQL 15 (PostgreSQL as its own system user).
                var settings = try PostgresSettings(url: try await SharedPostgres.shared.freshDatabase())
                // Generous: the parallel suite on two cores starved a first connection and migration past 10 s.
                settings.timeout = .seconds(60)
                let database = try PostgresStore(settings: settings, maximumConnections: 4)
                let runner = PoolRunner(database)
                return (try await PostgresLogStore.open(database: database, clock: clock.closure), runner)
            }),
    ]

    /// Epoch milliseconds.
    static let now: Int64 = 1_795_000_000_000

    func with(_ backend: Backend, _ body: (any LogStoring, TestClock) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(Self.now)
        let (store, peer) = try await backend.open(dir.path, clock)
        defer { withExtendedLifetime(peer) {} }
        try await body(store, clock)
    }

    /// 300 events over two streams, one a second, every third an ERROR, every fifth a JSON object.
    static func events(from start: Int64) -> [(stream: String, event: InputLogEvent)] {
        (0..<300).map { i in
            let message =
                i % 5 == 0
                ? #"{"level": "\#(i % 3 == 0 ? "ERROR" : "INFO")", "status": \#(i % 7 == 0 ? 500 : 200), "n": \#(i)}"#
                : "\(i % 3 == 0 ? "ERROR" : "INFO") request \(i) took \(i % 50) ms"
            return (
                i % 2 == 0 ? "web-1" : "web-2", InputLogEvent(timestamp: start + Int64(i) * 1_000, message: message)
            )
        }
    }

    static func put(
        _ events: [(stream: String, event: InputLogEvent)], group: String, into store: any LogStoring
    ) async throws {
        for stream in ["web-1", "web-2"] {
            _ = try await store.put(
                group: group, stream: stream, events: events.filter { $0.stream == stream }.map(\.event))
        }
    }

    /// Every page of a query, following the tokens.
    static func all(_ store: any LogStoring, _ query: LogQuery) async throws -> [LogEvent] {
        var query = query
        var out: [LogEvent] = []
        repeat {
            let page = try await store.filter(query)
            out += page.events
            query.token = page.nextToken
        } while query.token != nil
        return out
    }

    @Test("every event comes back once, in time order either way, across pages", arguments: backends)
    func readBack(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let start = clock.now - 600_000
            let written = Self.events(from: start)
            try await Self.put(written, group: "/conformance/app", into: store)
            let oldest = try await Self.all(store, LogQuery(group: "/conformance/app", limit: 37))
            #expect(oldest.map(\.message) == written.map(\.event.message))
            #expect(oldest.map(\.timestamp) == written.map(\.event.timestamp))
            let newest = try await Self.all(store, LogQuery(group: "/conformance/app", limit: 41, descending: true))
            #expect(newest.map(\.message) == written.reversed().map(\.event.message))
            // [start, end) and a stream prefix.
            let window = try await Self.all(
                store,
                LogQuery(group: "/conformance/app", start: start + 10_000, end: start + 20_000, streamPrefix: "web-1"))
            #expect(window.map(\.timestamp) == stride(from: start + 10_000, to: start + 20_000, by: 2_000).map { $0 })
        }
    }

    @Test("filter patterns select exactly what a naive reading of the messages selects", arguments: backends)
    func patterns(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let written = Self.events(from: clock.now - 600_000)
            try await Self.put(written, group: "/conformance/app", into: store)
            let cases: [(pattern: String, matches: (String) -> Bool)] = [
                ("ERROR", { $0.contains("ERROR") }),
                ("ERROR -request", { $0.contains("ERROR") && !$0.contains("request") }),
                (#"{ $.status = 500 }"#, { $0.hasPrefix("{") && $0.contains(#""status": 500"#) }),
                (
                    "[level, word, n, took, ms = 4*, unit]",
                    { m in
                        let f = m.split(separator: " ")
                        return !m.hasPrefix("{") && f.count == 6 && f[4].hasPrefix("4")
                    }
                ),
            ]
            for (text, matches) in cases {
                let got = try await Self.all(
                    store, LogQuery(group: "/conformance/app", pattern: try FilterPattern(text), limit: 1_000))
                #expect(got.map(\.message) == written.map(\.event.message).filter(matches), "pattern \(text)")
            }
        }
    }

    @Test("groups and streams are listed, by prefix; an unknown group is a 404", arguments: backends)
    func groupsAndStreams(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            _ = try await store.put(
                group: "/conformance/a", stream: "s1", events: [.init(timestamp: clock.now, message: "x")])
            _ = try await store.put(
                group: "/conformance/a", stream: "s2", events: [.init(timestamp: clock.now, message: "y")])
            _ = try await store.put(
                group: "/other/b", stream: "s1", events: [.init(timestamp: clock.now, message: "z")])
            #expect(try await store.groups(prefix: "/conformance/").map(\.name) == ["/conformance/a"])
            #expect(Set(try await store.groups().map(\.name)).isSuperset(of: ["/conformance/a", "/other/b"]))
            #expect(try await store.groups(prefix: "/conformance/").first?.storedEvents == 2)
            // The bytes it holds: its two one-byte messages, or a sealed block's compressed size where sealed.
            let group = try #require(try await store.groups(prefix: "/conformance/").first)
            if group.archivedEvents == 0 {
                #expect(group.storedBytes == 2)
            } else {
                #expect(group.storedBytes == 2 - group.archivedEvents + group.archiveCompressedBytes)
            }
            #expect(try await store.streams(group: "/conformance/a").map(\.name).sorted() == ["s1", "s2"])
            do {
                _ = try await store.streams(group: "/conformance/none")
                Issue.record("listed the streams of a group that does not exist")
            } catch let error as any HTTPResponseError {
                #expect(error.status == 404)
            }
        }
    }

    @Test(
        "an empty group and stream are created once; a stream needs its group; events then land in them",
        arguments: backends)
    func createGroupAndStream(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            #expect(try await store.createGroup("/conformance/empty"))
            #expect(try await !store.createGroup("/conformance/empty"))
            let group = try #require(try await store.groups(prefix: "/conformance/empty").first)
            #expect(group.storedEvents == 0)
            #expect(try await store.streams(group: "/conformance/empty").isEmpty)
            #expect(try await store.createStream(group: "/conformance/empty", stream: "s1"))
            #expect(try await !store.createStream(group: "/conformance/empty", stream: "s1"))
            let stream = try #require(try await store.streams(group: "/conformance/empty").first)
            #expect(stream.name == "s1")
            #expect(stream.lastEventAt == nil)
            do {
                _ = try await store.createStream(group: "/conformance/none", stream: "s1")
                Issue.record("made a stream in a group that does not exist")
            } catch let error as any HTTPResponseError {
                #expect(error.status == 404)
            }
            _ = try await store.put(
                group: "/conformance/empty", stream: "s1", events: [.init(timestamp: clock.now, message: "x")])
            #expect(try await store.streams(group: "/conformance/empty").first?.lastEventAt == clock.now)
            #expect(try await store.groups(prefix: "/conformance/empty").first?.storedEvents == 1)
        }
    }

    @Test("a follower from the last cursor sees exactly what comes after it, in order", arguments: backends)
    func follow(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            _ = try await store.put(
                group: "/conformance/f", stream: "s", events: [.init(timestamp: clock.now, message: "old")])
            let cursor = try await store.lastEventID()
            _ = try await store.put(
                group: "/conformance/other", stream: "s", events: [.init(timestamp: clock.now, message: "elsewhere")])
            _ = try await store.put(
                group: "/conformance/f", stream: "s",
                events: (1...5).map { .init(timestamp: clock.now + Int64($0), message: "new \($0)") })
            let followed = try await store.events(in: "/conformance/f", after: cursor)
            #expect(followed.map(\.message) == (1...5).map { "new \($0)" })
            #expect(try await store.events(in: "/conformance/f", after: try await store.lastEventID()).isEmpty)
        }
    }

    @Test("retention takes CloudWatch's values and shows on the group; others are refused", arguments: backends)
    func retention(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            _ = try await store.put(
                group: "/conformance/r", stream: "s", events: [.init(timestamp: clock.now, message: "x")])
            try await store.setRetention(group: "/conformance/r", days: 14)
            #expect(try await store.groups(prefix: "/conformance/r").first?.retentionDays == 14)
            try await store.setRetention(group: "/conformance/r", days: nil)
            #expect(try await store.groups(prefix: "/conformance/r").first?.retentionDays == nil)
            do {
                try await store.setRetention(group: "/conformance/r", days: 13)
                Issue.record("accepted 13 days")
            } catch let error as any HTTPResponseError {
                #expect(error.status == 400)
            }
        }
    }

    @Test(
        "a message holding a NUL character is refused with a 400 and nothing of its batch is stored",
        arguments: backends)
    func nul(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            do {
                _ = try await store.put(
                    group: "/conformance/nul", stream: "s",
                    events: [
                        .init(timestamp: clock.now, message: "fine"), .init(timestamp: clock.now, message: "a\u{0}b"),
                    ])
                Issue.record("accepted a NUL character")
            } catch let error as any HTTPResponseError {
                #expect(error.status == 400 && error.message.contains("events[1]"), "\(error.message)")
            }
            #expect(try await store.groups(prefix: "/conformance/nul").isEmpty)
        }
    }

    @Test("applying retention deletes exactly the events older than their group's retention", arguments: backends)
    func retentionApplied(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let day: Int64 = 86_400_000
            _ = try await store.put(
                group: "/conformance/short", stream: "s",
                events: (0..<10).map { .init(timestamp: clock.now - 3 * day + Int64($0), message: "old \($0)") })
            _ = try await store.put(
                group: "/conformance/short", stream: "s",
                events: (0..<4).map { .init(timestamp: clock.now - 1_000 + Int64($0), message: "new \($0)") })
            _ = try await store.put(
                group: "/conformance/forever", stream: "s",
                events: [.init(timestamp: clock.now - 3 * day, message: "kept")])
            try await store.setRetention(group: "/conformance/short", days: 1)
            #expect(try await store.applyRetention() == 10)
            let left = try await Self.all(store, LogQuery(group: "/conformance/short", limit: 100))
            #expect(left.map(\.message) == (0..<4).map { "new \($0)" })
            #expect(try await Self.all(store, LogQuery(group: "/conformance/forever", limit: 100)).count == 1)
            #expect(try await store.applyRetention() == 0)
            // Ids keep growing after the newest events went: a follower's cursor never sees an id twice.
            let cursor = try await store.lastEventID()
            try await store.setRetention(group: "/conformance/forever", days: 1)
            #expect(try await store.applyRetention() == 1)
            _ = try await store.put(
                group: "/conformance/forever", stream: "s", events: [.init(timestamp: clock.now, message: "later")])
            #expect(try await store.events(in: "/conformance/forever", after: cursor).map(\.message) == ["later"])
        }
    }

    @Test("appends racing each other are all seen by a follower, each once, in id order", arguments: backends)
    func racingAppends(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let writers = 6
            let batches = 25
            let now = clock.now
            let follower = Task { () -> [Int64] in
                var seen: [Int64] = []
                var cursor: Int64 = 0
                while seen.count < writers * batches * 3 {
                    let page = try await store.events(in: "/conformance/race", after: cursor, limit: 50)
                    seen += page.map(\.id)
                    cursor = page.last?.id ?? cursor
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
                }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for batch in 0..<batches {
                            _ = try await store.put(
                                group: "/conformance/race", stream: "w\(writer)",
                                events: (0..<3).map {
                                    .init(timestamp: now + Int64(batch), message: "w\(writer) b\(batch) e\($0)")
                                })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await withThrowingTaskGroup(of: [Int64]?.self) { group in
                group.addTask { try await follower.value }
                group.addTask {
                    try await Task.sleep(for: .seconds(60))
                    follower.cancel()
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            let ids = try #require(seen, "the follower did not see every event within 60 s")
            #expect(ids.count == writers * batches * 3)
            #expect(ids == ids.sorted())
            #expect(Set(ids).count == ids.count)
        }
    }

    @Test(
        "a metric filter turns each matching appended event into a sample, and a batch without a match into its default",
        arguments: backends)
    func metricFilters(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            store.setMetricFilters([
                MetricFilter(
                    name: "errors", group: "/conformance/m", pattern: try FilterPattern("ERROR"),
                    namespace: "Conformance", metric: "Errors", defaultValue: 0)
            ])
            #expect(store.metricFilters.map(\.filter.name) == ["errors"])
            let written = Self.events(from: clock.now - 600_000).map(\.event)
            let samples = try await store.put(group: "/conformance/m", stream: "s", events: written)
            #expect(samples.count == written.filter { $0.message.contains("ERROR") }.count)
            #expect(samples.allSatisfy { $0.value == .single(1) })
            // A batch that matches nothing makes one sample of the default value.
            let quiet = try await store.put(
                group: "/conformance/m", stream: "s", events: [.init(timestamp: clock.now, message: "INFO all well")])
            #expect(quiet.map(\.value) == [.single(0)])
            #expect(Set(samples.map(\.series)) == [SeriesKey(namespace: "Conformance", name: "Errors")])
        }
    }
}

extension LogStoreConformanceTests {
    @Test(
        "a deleted group is gone with its streams, events and the API's metric filters on it; others and ids are untouched",
        arguments: backends)
    func deleteGroup(_ backend: Backend) async throws {
        try await with(backend) { store, clock in
            let written = Self.events(from: clock.now - 600_000)
            // The deleted group holds the highest ids, so the last check sees whether any is given again.
            try await Self.put(written, group: "/conformance/kept", into: store)
            try await Self.put(written, group: "/conformance/gone", into: store)
            let highest = try await store.lastEventID()
            let onGone = MetricFilter(
                name: "gone-errors", group: "/conformance/gone", pattern: try FilterPattern("ERROR"),
                namespace: "Conformance", metric: "GoneErrors", defaultValue: nil)
            let onKept = MetricFilter(
                name: "kept-errors", group: "/conformance/kept", pattern: try FilterPattern("ERROR"),
                namespace: "Conformance", metric: "KeptErrors", defaultValue: nil)
            try await store.storeMetricFilterDocument(name: "gone-errors", document: "{}")
            try await store.storeMetricFilterDocument(name: "kept-errors", document: "{}")
            store.setAPIMetricFilters([onGone, onKept])

            try await store.deleteGroupAndItsFilters("/conformance/gone")
            #expect(try await store.groups().map(\.name) == ["/conformance/kept"])
            await #expect(throws: LogsError.self) { try await store.streams(group: "/conformance/gone") }
            #expect(store.metricFilters.map(\.filter.name) == ["kept-errors"])
            #expect(try await store.storedMetricFilterDocuments().keys.sorted() == ["kept-errors"])
            #expect(try await Self.all(store, LogQuery(group: "/conformance/kept")).count == written.count)
            do {
                try await store.deleteGroup("/conformance/gone")
                Issue.record("a second delete must be a 404")
            } catch let error as LogsError {
                #expect(error.status == 404)
            }

            // Made again under the same name, the group is empty, and new events get new ids.
            _ = try await store.put(
                group: "/conformance/gone", stream: "again", events: [.init(timestamp: clock.now, message: "new")])
            let again = try await Self.all(store, LogQuery(group: "/conformance/gone"))
            #expect(again.map(\.message) == ["new"])
            #expect(try await store.streams(group: "/conformance/gone").map(\.name) == ["again"])
            #expect(try await store.lastEventID() > highest)
        }
    }
}

/// The SQLite store with every other batch sealed into blocks right after it is written, so that reads go through
/// blocks and table together.
final class SealingEveryOtherBatch: LogStoring {
    let store: LogStore
    let batches = Mutex(0)

    init(store: LogStore) { self.store = store }

    func sealing<T>(_ body: () throws -> T) throws -> T {
        let result = try body()
        // One sealer at a time, as the server runs it (one maintenance service); racing appends call this at once.
        try batches.withLock { n in
            n += 1
            if n % 2 == 1 { try store.seal(sealAfter: 0) }
        }
        return result
    }

    var clock: @Sendable () -> Int64 { store.clock }
    func put(group: String, stream: String, events: [InputLogEvent]) throws -> [Sample] {
        try sealing { try store.put(group: group, stream: stream, events: events) }
    }
    func append(_ batches: [(group: String, stream: String, events: [InputLogEvent])]) throws -> [Sample] {
        try sealing { try store.append(batches) }
    }
    func createGroup(_ name: String) throws -> Bool { try store.createGroup(name) }
    func createStream(group: String, stream: String) throws -> Bool {
        try store.createStream(group: group, stream: stream)
    }
    func groups(prefix: String?) throws -> [LogGroupSummary] { try store.groups(prefix: prefix) }
    func streams(group: String) throws -> [LogStreamSummary] { try store.streams(group: group) }
    func filter(_ query: LogQuery) throws -> LogPage { try store.filter(query) }
    func events(in group: String, after: Int64, limit: Int) throws -> [LogEvent] {
        try store.events(in: group, after: after, limit: limit)
    }
    func lastEventID() throws -> Int64 { try store.lastEventID() }
    func setRetention(group: String, days: Int?) throws { try store.setRetention(group: group, days: days) }
    func applyRetention() throws -> Int { try store.applyRetention() }
    func deleteGroup(_ name: String) throws { try store.deleteGroup(name) }
    var metricFilters: [(filter: MetricFilter, fromFile: Bool)] { store.metricFilters }
    func setMetricFilters(_ list: [MetricFilter]) { store.setMetricFilters(list) }
    func setAPIMetricFilters(_ list: [MetricFilter]) { store.setAPIMetricFilters(list) }
    func storedMetricFilterDocuments() throws -> [String: String] { try store.storedMetricFilterDocuments() }
    func storeMetricFilterDocument(name: String, document: String?) throws {
        try store.storeMetricFilterDocument(name: name, document: document)
    }
}
