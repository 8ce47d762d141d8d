import Foundation
import GRDB
import PlumbLogs
import PlumbStore
import PlumbTesting
import Testing

/// Sealed blocks: events move from the table into compressed blocks and every read sees the same events, in the
/// same order, as before; ids keep growing; retention drops whole blocks; segment files of earlier versions
/// become blocks.
@Suite struct LogSealingTests {
    static let now = LogStoreTests.now

    static func access(_ n: Int) -> String {
        n % 3 == 0
            ? #"{"n": \#(n), "status": \#(n % 100 == 0 ? 500 : 200), "user": "u\#(n % 7)"}"#
            : "10.0.0.\(n % 9) - u\(n % 7) [x] \"GET /item/\(n) HTTP/1.1\" \(n % 100 == 0 ? 500 : 200) \(n % 500)"
    }

    @Test func sealedEventsReadExactlyAsBeforeAcrossTableAndBlocks() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStoreTests.store(dir)
        // 12,000 events over 4 hours, then 600 late ones whose timestamps fall among the sealed ones.
        var put: [(stream: String, ts: Int64, message: String)] = []
        for chunk in 0..<12 {
            let events = (0..<1_000).map { i in
                let n = chunk * 1_000 + i
                return InputLogEvent(timestamp: Self.now - 4 * 3_600_000 + Int64(n) * 1_200, message: Self.access(n))
            }
            try store.put(group: "/a", stream: "s\(chunk % 2)", events: events)
            put += events.map { ("s\(chunk % 2)", $0.timestamp, $0.message) }
        }
        let queries = [
            LogQuery(group: "/a", limit: 50_000), LogQuery(group: "/a", limit: 50_000, descending: true),
            LogQuery(group: "/a", pattern: try FilterPattern("\" 500 \""), limit: 7),
            LogQuery(group: "/a", pattern: try FilterPattern("{ $.status = 500 }"), limit: 3, descending: true),
            LogQuery(group: "/a", pattern: try FilterPattern("[ip, d, user = u3, ...]"), limit: 100),
            LogQuery(
                group: "/a", start: Self.now - 3 * 3_600_000, end: Self.now - 3_600_000, streamPrefix: "s1",
                limit: 13),
        ]
        var before: [[Int64]] = []
        for query in queries { before.append(try await LogStoreConformanceTests.all(store, query).map(\.id)) }

        // A long seal_after: only full blocks are sealed.
        let report = try store.seal(sealAfter: 86_400_000)
        #expect(report.blocks == 2 && report.events == 8_192, "\(report)")
        #expect(report.compressionRatio > 4, "ratio \(report.compressionRatio)")
        #expect(try await store.groups().first?.archivedEvents == 8_192)
        #expect(try await store.groups().first?.storedEvents == 12_000)
        for (query, ids) in zip(queries, before) {
            #expect(try await LogStoreConformanceTests.all(store, query).map(\.id) == ids, "\(query)")
        }

        // Late events interleave with the sealed ones: every read is the merge, in (timestamp, id) order.
        let late = (0..<600).map { i in
            InputLogEvent(timestamp: Self.now - 4 * 3_600_000 + Int64(i) * 24_000 + 600, message: "late \(i) \" 500 \"")
        }
        try store.put(group: "/a", stream: "s9", events: late)
        put += late.map { ("s9", $0.timestamp, $0.message) }
        let expected = put.sorted { $0.ts < $1.ts }.map(\.message)
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/a", limit: 1_000)).map(\.message)
                == expected)
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/a", limit: 999, descending: true)).map(
                \.message)
                == expected.reversed())
        let term = try FilterPattern("\" 500 \"")
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/a", pattern: term, limit: 11)).map(
                \.message)
                == expected.filter { term.matches($0) })
        // 80 access lines answered 500 (the JSON ones are not lines) and the 600 late events.
        #expect(expected.filter { term.matches($0) }.count == 680)
    }

    @Test func idsKeepGrowingWhenEverythingIsSealedAndFollowersSeeEveryEventOnce() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStoreTests.store(dir)
        try store.put(
            group: "/f", stream: "s",
            events: (0..<10).map { InputLogEvent(timestamp: Self.now - 1_000 + Int64($0), message: "a\($0)") })
        let report = try store.seal(sealAfter: 0)
        #expect(report.events == 10 && report.blocks == 1)
        let last = try store.lastEventID()
        #expect(last == 10)
        // The table is empty now; SQLite alone would give the next row id 1 again.
        try store.put(
            group: "/f", stream: "s",
            events: (0..<5).map { InputLogEvent(timestamp: Self.now + Int64($0), message: "b\($0)") })
        let everything = try await store.events(in: "/f", after: 0)
        #expect(everything.map(\.message) == (0..<10).map { "a\($0)" } + (0..<5).map { "b\($0)" })
        #expect(everything.map(\.id) == Array(1...15))
        #expect(try await store.events(in: "/f", after: last).map(\.message) == (0..<5).map { "b\($0)" })
        #expect(try await store.events(in: "/f", after: 3, limit: 4).map(\.id) == [4, 5, 6, 7])
        #expect(try store.lastEventID() == 15)
        // A store opened again continues after the highest id, sealed or not.
        let reopened = try LogStoreTests.store(dir)
        try reopened.seal(sealAfter: 0)
        try reopened.put(group: "/f", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "c")])
        #expect(try reopened.lastEventID() == 16)
    }

    @Test("a deleted group's sealed blocks go with it, and a store opened again gives none of its ids again")
    func deletedGroupsIDsAreNotGivenAgain() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStoreTests.store(dir)
        try store.put(
            group: "/kept", stream: "s", events: [InputLogEvent(timestamp: Self.now - 1_000, message: "first")])
        try store.put(
            group: "/gone", stream: "s",
            events: (0..<10).map { InputLogEvent(timestamp: Self.now - 1_000 + Int64($0), message: "a\($0)") })
        try store.seal(sealAfter: 0)
        try store.put(group: "/gone", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "table")])
        try store.deleteGroup("/gone")
        #expect(try await store.groups().map(\.name) == ["/kept"])
        #expect(try await store.groups().first?.archivedEvents == 1, "the kept group's block stays")
        let reopened = try LogStoreTests.store(dir)
        try reopened.put(group: "/gone", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "new")])
        #expect(try await reopened.events(in: "/gone", after: 0).map(\.id) == [13])
    }

    @Test func retentionDropsRowsAndWholeBlocksPastIt() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStoreTests.store(dir)
        try store.put(
            group: "/old", stream: "s",
            events: (0..<100).map {
                InputLogEvent(timestamp: Self.now - 2 * 86_400_000 + Int64($0), message: "old \($0)")
            })
        try store.seal(sealAfter: 0)
        try store.put(
            group: "/old", stream: "s",
            events: [InputLogEvent(timestamp: Self.now - 2 * 86_400_000, message: "late but old")])
        try store.put(
            group: "/old", stream: "s", events: [InputLogEvent(timestamp: Self.now - 1_000, message: "recent")])
        #expect(try store.applyRetention() == 0, "no retention set: nothing expires")
        try store.setRetention(group: "/old", days: 1)
        #expect(throws: LogsError.self) { try store.setRetention(group: "/old", days: 2) }
        #expect(try store.applyRetention() == 101, "the block of 100 and the old row in the table")
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/old", limit: 1_000)).map(\.message) == [
                "recent"
            ])
    }

    @Test func segmentFilesOfEarlierVersionsBecomeBlocksWithEveryEvent() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/log-archive/1-0-1.seg"
        do {
            let store = try LogStoreTests.store(dir)
            try store.put(
                group: "/g", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "in the table")])
            // What the archive of earlier versions wrote: PLSG1, then id, stream, ts, ingested, message per event.
            var writer = BinaryWriter()
            writer.writeBytes(Array("PLSG1".utf8))
            for n in 0..<5_000 {
                writer.writeSignedVarint(Int64(100 + n))
                writer.writeString("old-stream")
                writer.writeSignedVarint(Self.now - 86_400_000 + Int64(n))
                writer.writeSignedVarint(Self.now - 86_400_000 + Int64(n))
                writer.writeString("archived event \(n)")
            }
            try FileManager.default.createDirectory(
                atPath: dir.path + "/log-archive", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data(try Zlib.compress(writer.bytes)))
            let rawBytes = writer.bytes.count
            try await store.database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO log_segments (group_id, path, min_ts, max_ts, events, raw_bytes, compressed_bytes)
                        VALUES (1, ?, ?, ?, 5000, ?, 0)
                        """,
                    arguments: [path, Self.now - 86_400_000, Self.now - 86_400_000 + 4_999, rawBytes])
            }
        }
        let store = try LogStoreTests.store(dir)
        #expect(!FileManager.default.fileExists(atPath: path))
        let events = try await LogStoreConformanceTests.all(store, LogQuery(group: "/g", limit: 10_000))
        #expect(events.map(\.message) == (0..<5_000).map { "archived event \($0)" } + ["in the table"])
        #expect(events.prefix(5_000).map(\.id) == (0..<5_000).map { Int64(100 + $0) })
        #expect(try await store.groups().first?.archivedEvents == 5_000)
        // Ids continue after the highest converted one.
        try store.put(group: "/g", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "new")])
        #expect(try store.lastEventID() == 5_100)
    }

    @Test func aQuietGroupIsSealedWholeOnceItsOldestEventHasWaited() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(Self.now)
        let store = try LogStore(directory: dir.path, durability: .normal, clock: clock.closure)
        // One event every 10 s for 400 s: nothing is sealed before the first has waited 300 s, then all of them.
        for i in 0..<40 {
            try store.put(group: "/quiet", stream: "s", events: [InputLogEvent(timestamp: clock.now, message: "e\(i)")])
            #expect(try store.seal(sealAfter: 300_000).events == 0 || i >= 30, "sealed after \(i * 10) s")
            clock.advance(by: 10_000)
        }
        // At 300 s the first 31 went, in one block; the 9 after them wait for their own turn.
        #expect(try await store.groups().first?.archivedEvents == 31)
        clock.advance(by: 300_000)
        #expect(try store.seal(sealAfter: 300_000).blocks == 1)
        #expect(try await store.groups().first?.archivedEvents == 40)
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/quiet", limit: 100)).map(\.message)
                == (0..<40).map { "e\($0)" })
    }

    @Test func idsKeepGrowingAfterRetentionDeletedEverythingAndARestart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock(Self.now)
        do {
            let store = try LogStore(directory: dir.path, durability: .normal, clock: clock.closure)
            try store.put(
                group: "/r", stream: "s", events: (0..<7).map { InputLogEvent(timestamp: clock.now, message: "\($0)") })
            try store.seal(sealAfter: 0)
            try store.setRetention(group: "/r", days: 1)
            clock.advance(by: 2 * 86_400_000)
            #expect(try store.applyRetention() == 7)
            #expect(try store.lastEventID() == 0)
        }
        let reopened = try LogStore(directory: dir.path, durability: .normal, clock: clock.closure)
        try reopened.put(group: "/r", stream: "s", events: [InputLogEvent(timestamp: clock.now, message: "after")])
        #expect(try reopened.lastEventID() == 8)
    }

    @Test func aDamagedSegmentFileDoesNotStopTheStoreFromOpening() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/log-archive/1-0-1.seg"
        do {
            let store = try LogStoreTests.store(dir)
            try store.put(group: "/g", stream: "s", events: [InputLogEvent(timestamp: Self.now, message: "kept")])
            try FileManager.default.createDirectory(
                atPath: dir.path + "/log-archive", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data([0x78, 0x9c, 1, 2, 3]))
            try await store.database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO log_segments (group_id, path, min_ts, max_ts, events, raw_bytes, compressed_bytes)
                        VALUES (1, ?, 0, 1, 10, -5, 5)
                        """,
                    arguments: [path])
            }
        }
        let store = try LogStoreTests.store(dir)
        #expect(FileManager.default.fileExists(atPath: path), "left for a person to look at")
        #expect(
            try await LogStoreConformanceTests.all(store, LogQuery(group: "/g", limit: 10)).map(\.message) == ["kept"])
    }
}
