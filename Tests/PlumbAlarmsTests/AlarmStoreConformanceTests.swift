import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbPostgres
import PlumbTesting
import Testing

/// What every alarm store must do the same way, against each backend: the embedded SQLite file and PostgreSQL (a
/// fresh database on the process's shared server). The last cases run two engines on one store, as two nodes of a
/// cluster do, and check that each sees the other's writes after `refresh`.
@Suite("Alarm store conformance")
struct AlarmStoreConformanceTests {
    struct Backend: Sendable, CustomStringConvertible {
        let name: String
        /// The store, and what must live as long as it (a connection pool's runner).
        let open: @Sendable (_ directory: String) async throws -> (any AlarmStoring, AnyObject?)
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
        Backend(name: "SQLite", open: { directory in (try AlarmStore(directory: directory, durability: .full), nil) }),
        Backend(
            name: "PostgreSQL",
            open: { _ in
                var settings = try PostgresSettings(url: try await SharedPostgres.shared.freshDatabase())
                settings.timeout = .seconds(60)
                let database = try PostgresStore(settings: settings, maximumConnections: 4)
                let runner = PoolRunner(database)
                return (try await PostgresAlarmStore.open(database: database), runner)
            }),
    ]

    static let now: Int64 = 1_795_000_000

    func with(_ backend: Backend, _ body: (any AlarmStoring) async throws -> Void) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (store, peer) = try await backend.open(dir.path)
        defer { withExtendedLifetime(peer) {} }
        try await body(store)
    }

    @Test("records round-trip with their revision; every write bumps it; deletes go", arguments: backends)
    func records(_ backend: Backend) async throws {
        try await with(backend) { store in
            #expect(try await store.revision() == 0)
            let empty = try await store.load()
            #expect(empty.revision == 0 && empty.records.isEmpty && empty.silences.isEmpty)
            let api = AlarmRecord(
                name: "api-one", document: #"{"namespace":"N"}"#, state: .insufficientData,
                reason: "Unchecked: Initial alarm creation", reasonData: nil, updatedAt: Self.now)
            let file = AlarmRecord(
                name: "file-one", document: nil, state: .alarm, reason: "Threshold Crossed: 1 datapoint [5.0]",
                reasonData: #"{"version":"1.0"}"#, updatedAt: Self.now + 10)
            let first = try await store.save([api, file], history: [], deleting: [])
            #expect(first == 1)
            var loaded = try await store.load()
            #expect(loaded.revision == 1)
            var want = [api.name: api, file.name: file]
            want[api.name]!.revision = 1
            want[file.name]!.revision = 1
            #expect(loaded.records == want)

            var changed = file
            changed.state = .ok
            changed.reason = "back"
            changed.reasonData = nil
            let second = try await store.save([changed], history: [], deleting: [api.name])
            let revision = try await store.revision()
            #expect(second == 2 && revision == 2)
            loaded = try await store.load()
            changed.revision = 2
            #expect(loaded.records == [file.name: changed], "the deleted alarm is gone, the other one changed")
        }
    }

    @Test("history: newest first, by type and before, limited, pruned after 14 days", arguments: backends)
    func history(_ backend: Backend) async throws {
        try await with(backend) { store in
            var items: [AlarmHistoryEntry] = []
            for i in 0..<6 {
                let item = AlarmHistoryItem(
                    type: i % 3 == 0 ? "Action" : "StateUpdate", timestamp: Self.now + Int64(i) * 60,
                    summary: "item \(i)", data: i == 4 ? #"{"messageId":"m-4"}"# : nil)
                items.append(AlarmHistoryEntry(i % 2 == 0 ? "a" : "b", item))
            }
            try await store.save([], history: items, deleting: [])
            let a = try await store.history(of: "a")
            #expect(a.map(\.summary) == ["item 4", "item 2", "item 0"])
            #expect(a.first?.data == #"{"messageId":"m-4"}"# && a.last?.data == nil)
            #expect(
                try await store.history(of: "a", type: "Action", limit: 10, before: nil).map(\.summary) == ["item 0"])
            #expect(
                try await store.history(of: "a", type: nil, limit: 1, before: Self.now + 4 * 60).map(\.summary) == [
                    "item 2"
                ])
            #expect(try await store.history(of: "nobody").isEmpty)
            // Two items in the same second keep the order they were written in.
            try await store.save(
                [],
                history: [
                    .init("c", .init(type: "StateUpdate", timestamp: Self.now, summary: "first", data: nil)),
                    .init("c", .init(type: "Action", timestamp: Self.now, summary: "second", data: nil)),
                ], deleting: [])
            #expect(try await store.history(of: "c").map(\.summary) == ["second", "first"])
            let pruned = try await store.pruneHistory(now: Self.now + AlarmHistoryItem.retention + 150)
            #expect(pruned == 5, "items at now, now+60, now+120 (three of them) and both of c's are older than 14 days")
            #expect(try await store.history(of: "b").map(\.summary) == ["item 5", "item 3"])
        }
    }

    @Test("silences: stored, expired (the earlier end wins), pruned; each save bumps the revision", arguments: backends)
    func silences(_ backend: Backend) async throws {
        try await with(backend) { store in
            let silence = Silence(
                id: "s-1", matcher: .pattern("sensors-*"), createdBy: "user:ana", comment: "moving the rack",
                startsAt: Self.now, endsAt: Self.now + 3_600, createdAt: Self.now)
            let other = Silence(
                id: "s-2", matcher: .alarm("exact"), createdBy: "admin", comment: "noisy", startsAt: Self.now + 10,
                endsAt: Self.now + 7_200, createdAt: Self.now + 10)
            #expect(try await store.save(silence) == 1)
            #expect(try await store.save(other) == 2)
            var expired = silence
            expired.endsAt = Self.now + 60
            expired.expiredBy = "admin"
            #expect(try await store.save(expired) == 3)
            let loaded = try await store.load()
            #expect(loaded.revision == 3)
            #expect(loaded.silences == [expired, other])
            #expect(try await store.pruneSilences(endedBefore: Self.now + 61) == 1)
            #expect(try await store.load().silences == [other])
        }
    }

    // MARK: Two engines on one store: two nodes

    static let metricAlarm =
        #"{"namespace":"N","metric":"M","statistic":"Sum","period":60,"evaluation_periods":1,"comparison":"GreaterThanThreshold","threshold":1}"#

    @Test("a node sees the alarms, states, deletes and silences another node wrote, after refresh", arguments: backends)
    func twoNodes(_ backend: Backend) async throws {
        try await with(backend) { store in
            let a = try await AlarmEngine(source: RecordedSeries(), store: store, parallelism: 1)
            let b = try await AlarmEngine(source: RecordedSeries(), store: store, parallelism: 1)
            _ = try await a.put(name: "shared", document: Self.metricAlarm, now: Self.now)
            #expect(b.status("shared") == nil)
            #expect(try await b.refresh())
            #expect(b.status("shared")?.state == .insufficientData)
            #expect(try await b.refresh() == false, "nothing new: nothing read")

            try await a.setState("shared", .alarm, reason: "by hand", now: Self.now + 5)
            try await b.refresh()
            #expect(b.status("shared")?.state == .alarm && b.status("shared")?.reason == "by hand")
            // b's own write is not undone by reading a's older one.
            try await b.setState("shared", .ok, reason: "b says ok", now: Self.now + 6)
            try await a.refresh()
            try await b.refresh()
            #expect(a.status("shared")?.reason == "b says ok" && b.status("shared")?.reason == "b says ok")
            #expect(
                try await b.history(of: "shared").map(\.summary).prefix(2) == [
                    "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM",
                ])

            let changed = Self.metricAlarm.replacingOccurrences(of: #""threshold":1"#, with: #""threshold":7"#)
            _ = try await b.put(name: "shared", document: changed, now: Self.now + 7)
            try await a.refresh()
            guard case .metric(let alarm) = a.status("shared")?.definition else {
                Issue.record("the alarm is gone on a")
                return
            }
            #expect(alarm.threshold == 7, "the definition changed on b shows on a")

            let silence = try await a.silences.add(
                .alarm("shared"), duration: 600, createdBy: "admin", comment: "deploy", now: Self.now)
            try await b.refresh()
            #expect(b.silences.active(for: "shared", at: Self.now + 1)?.id == silence.id)
            _ = try await b.silences.expire(id: silence.id, by: "admin", now: Self.now + 2)
            try await a.refresh()
            #expect(a.silences.active(for: "shared", at: Self.now + 3) == nil)

            try await a.delete(name: "shared")
            try await b.refresh()
            #expect(b.status("shared") == nil && b.count == 0)
            // A third node starting now reads the store as it is.
            let c = try await AlarmEngine(source: RecordedSeries(), store: store, parallelism: 1)
            #expect(c.count == 0 && c.silences.list(now: Self.now + 3).count == 1)
        }
    }
}
