import GRDB
import Synchronization

/// Each detector's newest scored readings (timestamp and event rate), kept in memory for the scorer so a scoring
/// run costs the same whatever the size of the log. The writer feeds it after each commit; the first scoring run of
/// a process seeds it from the database (the delivered readings and the log) and merges what was fed meanwhile —
/// (detector, timestamp) is unique, so the merge drops nothing and counts nothing twice.
final class RateWindows: Sendable {
    struct Sample: Sendable {
        var ts: Int64
        var rate: Double
    }

    /// How many of a detector's newest readings are kept: a minute's window and the baseline before it.
    static let kept = 660

    private let state = Mutex<(samples: [String: [Sample]], seeded: Bool)>(([:], false))

    /// Readings just committed.
    func feed(_ samples: [(detector: String, sample: Sample)]) {
        guard !samples.isEmpty else { return }
        state.withLock { s in
            for (detector, sample) in samples {
                s.samples[detector, default: []].append(sample)
                if s.samples[detector]!.count >= Self.kept + Self.kept / 4 {
                    s.samples[detector] = Self.newest(s.samples[detector]!)
                }
            }
        }
    }

    var seeded: Bool { state.withLock { $0.seeded } }

    /// Reads every detector's newest readings from `db` (one snapshot) and merges them in.
    func seed(_ db: Database) throws {
        var found: [String: [Sample]] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT detector, ts, rate FROM log WHERE rate IS NOT NULL")
        while let row = try rows.next() {
            let detector: String = row[0]
            found[detector, default: []].append(Sample(ts: row[1], rate: row[2]))
            if found[detector]!.count >= Self.kept + Self.kept / 4 { found[detector] = Self.newest(found[detector]!) }
        }
        let delivered = try db.cachedStatement(
            sql: "SELECT ts, rate FROM readings WHERE detector = ? AND rate IS NOT NULL ORDER BY ts DESC LIMIT ?")
        for detector in try String.fetchAll(db, sql: "SELECT id FROM detectors") {
            let cursor = try Row.fetchCursor(delivered, arguments: [detector, Self.kept])
            while let row = try cursor.next() { found[detector, default: []].append(Sample(ts: row[0], rate: row[1])) }
        }
        state.withLock { s in
            for (detector, samples) in found { s.samples[detector, default: []] += samples }
            s.samples = s.samples.mapValues(Self.newest)
            s.seeded = true
        }
    }

    /// Each detector's newest readings, newest first.
    func snapshot() -> [String: [Sample]] {
        state.withLock { s in
            s.samples = s.samples.mapValues(Self.newest)
            return s.samples
        }
    }

    /// The newest `kept` of `samples` with no timestamp twice, newest first.
    static func newest(_ samples: [Sample]) -> [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(min(samples.count, kept))
        for sample in samples.sorted(by: { $0.ts > $1.ts }) where out.last?.ts != sample.ts {
            out.append(sample)
            if out.count == kept { break }
        }
        return out
    }
}
