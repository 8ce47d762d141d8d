import GRDB
import Testing

@testable import Sensors

/// The scorer's in-memory windows: what the writer fed and what a first run seeds from the database merge into each
/// detector's newest readings, every timestamp once.
@Suite("RateWindows")
struct RateWindowsTests {
    @Test(
        "seeding merges delivered readings, the log and what was fed meanwhile; the newest 660 by timestamp, none twice"
    )
    func seedMergesWithoutDuplicates() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE detectors (id TEXT PRIMARY KEY);
                    CREATE TABLE readings (detector TEXT, seq INTEGER, ts INTEGER, body TEXT, segment TEXT, rate REAL, PRIMARY KEY (detector, seq), UNIQUE (detector, ts)) WITHOUT ROWID;
                    CREATE TABLE log (id INTEGER PRIMARY KEY, detector TEXT, seq INTEGER, ts INTEGER, rate REAL, body TEXT);
                    INSERT INTO detectors VALUES ('A'), ('B');
                    """)
            // A: 700 delivered readings (ts 1…700), then 50 in the log (701…750). B: 5 in the log, one without a rate.
            for ts in 1...700 {
                try db.execute(
                    sql: "INSERT INTO readings VALUES ('A', ?, ?, '', 'k', ?)", arguments: [ts, ts, Double(ts)])
            }
            for ts in 701...750 {
                try db.execute(
                    sql: "INSERT INTO log (detector, seq, ts, rate, body) VALUES ('A', ?, ?, ?, '{}')",
                    arguments: [ts, ts, Double(ts)])
            }
            for ts in 1...5 {
                try db.execute(
                    sql: "INSERT INTO log (detector, seq, ts, rate, body) VALUES ('B', ?, ?, ?, '{}')",
                    arguments: [ts, ts, ts == 3 ? nil : Double(ts)])
            }
        }
        let windows = RateWindows()
        // The writer fed the last 20 of A's log (committed before the seed's snapshot) and two newer readings.
        windows.feed((731...752).map { (detector: "A", sample: RateWindows.Sample(ts: Int64($0), rate: Double($0))) })
        #expect(!windows.seeded)
        try db.read { try windows.seed($0) }
        #expect(windows.seeded)
        let snapshot = windows.snapshot()
        let a = try #require(snapshot["A"])
        #expect(a.count == RateWindows.kept)
        #expect(a.map(\.ts) == (752 - 659...752).reversed().map(Int64.init), "newest first, every timestamp once")
        #expect(snapshot["B"]?.map(\.ts) == [5, 4, 2, 1], "a reading without a rate is not scored")
    }

    @Test("a detector fed more than it keeps holds only its newest readings, also when they arrive out of order")
    func feedTrims() {
        let windows = RateWindows()
        var timestamps = Array(1...2_000).map(Int64.init)
        timestamps.swapAt(10, 1_990)
        for ts in timestamps { windows.feed([(detector: "A", sample: RateWindows.Sample(ts: ts, rate: 1))]) }
        let a = windows.snapshot()["A"] ?? []
        #expect(
            a.count == RateWindows.kept && a.first?.ts == 2_000 && a.last?.ts == 2_000 - Int64(RateWindows.kept) + 1)
    }
}
