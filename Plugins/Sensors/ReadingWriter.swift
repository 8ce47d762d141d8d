import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

/// The durable log: readings appended in arrival order (table `log`, a rowid append, with a time-ordered unique
/// index on (ts, detector) for idempotency), each with the next sequence number of its detector. Concurrent requests
/// share one transaction (one fsync); a request's answer waits for its commit.
///
/// Why arrival order: with thousands of detectors, a table or index keyed by detector puts every reading of a commit
/// on a different page, so the WAL wrote ~12 KB per reading. Appends and a time-ordered index touch a few pages at
/// the right edge. Delivery later moves each detector's readings into segments and the per-detector `readings`
/// table in contiguous runs.
final class ReadingWriter: Sendable {
    struct Outcome: Sendable {
        var accepted = 0
        var duplicates = 0
        /// Last sequence number per detector written by this request.
        var last: [String: Int64] = [:]
    }

    /// What the writer knows of a detector: its next sequence number, and the largest timestamp among its delivered
    /// readings (a reading after it cannot repeat a delivered one, so only older readings are looked up).
    struct Head: Sendable {
        var next: Int64
        var deliveredMaxTs: Int64
        /// The highest delivered sequence number: the log holds `next - 1 - deliveredSeq` of the detector's readings.
        var deliveredSeq: Int64
    }

    struct State: Sendable {
        var pending: [([Reading], CheckedContinuation<Outcome, any Error>)] = []
        var running = false
        /// Highest sequence number per detector in the log, read once per process (or after a rollback).
        var logHeads: [String: Int64]?
        var heads: [String: Head] = [:]
        var known: Set<String> = []
        var delivering = false
    }

    let database: DatabasePool
    /// The scorer's view of each detector's newest readings, fed after each commit.
    let windows = RateWindows()
    private let state = Mutex(State())
    private static let writers = SharedInstances<ReadingWriter>()

    init(database: DatabasePool) { self.database = database }

    static func shared(for path: String, database: DatabasePool) -> ReadingWriter {
        writers.get(path) { ReadingWriter(database: database) }
    }

    /// The registered detectors among `ids` (cached once seen).
    func knownDetectors(_ ids: Set<String>) async throws -> Set<String> {
        // Only `ids` is hashed (the cache holds every registered detector; set algebra over it would hash it all).
        let missing = state.withLock { s in ids.filter { !s.known.contains($0) } }
        guard !missing.isEmpty else { return ids }
        let found = try await database.read { db in
            try Set(
                String.fetchAll(
                    db,
                    sql: "SELECT id FROM detectors WHERE id IN (\(missing.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(Array(missing))))
        }
        state.withLock { $0.known.formUnion(found) }
        return ids.subtracting(missing.subtracting(found))
    }

    /// Claims the deliverer; false while another delivery runs.
    func beginDelivery() -> Bool {
        state.withLock { s in
            if s.delivering { return false }
            s.delivering = true
            return true
        }
    }

    func endDelivery() { state.withLock { $0.delivering = false } }

    /// Called by delivery inside its write transaction: `detector`'s readings up to `maxTs` left the log.
    func noteDelivered(_ detector: String, maxTs: Int64, lastSeq: Int64) {
        state.withLock { s in
            if var head = s.heads[detector] {
                head.deliveredMaxTs = max(head.deliveredMaxTs, maxTs)
                head.deliveredSeq = max(head.deliveredSeq, lastSeq)
                s.heads[detector] = head
            }
        }
    }

    /// The most readings any one detector has in the log, when the writer knows every detector there (it has read
    /// the log's heads and seen each of them since); nil otherwise. Lets the deliverer skip its pass over the log
    /// when no detector can have reached the size hint.
    func fullestRun() -> Int64? {
        state.withLock { s in
            guard let logHeads = s.logHeads, logHeads.keys.allSatisfy({ s.heads[$0] != nil }) else { return nil }
            return s.heads.values.map { $0.next - 1 - $0.deliveredSeq }.max() ?? 0
        }
    }

    func append(_ readings: [Reading]) async throws -> Outcome {
        guard !readings.isEmpty else { return Outcome() }
        return try await withCheckedThrowingContinuation { c in
            let start = state.withLock { s -> Bool in
                s.pending.append((readings, c))
                if s.running { return false }
                s.running = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// The head of `detector`, read from the log's heads and the delivered readings on first sight. Runs inside a
    /// write transaction, so it sees every committed delivery.
    private func head(_ detector: String, _ db: Database) throws -> Head {
        if let head = state.withLock({ $0.heads[detector] }) { return head }
        var logHeads = state.withLock { $0.logHeads }
        if logHeads == nil {
            var heads: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT detector, MAX(seq) AS seq FROM log GROUP BY detector") {
                heads[row["detector"]] = row["seq"]
            }
            logHeads = heads
            state.withLock { $0.logHeads = heads }
        }
        let delivered = try Row.fetchOne(
            db,
            sql:
                "SELECT (SELECT MAX(seq) FROM readings WHERE detector = ?1) AS seq, (SELECT MAX(ts) FROM readings WHERE detector = ?1) AS ts",
            arguments: [detector])
        let deliveredSeq: Int64 = delivered?["seq"] ?? 0
        let head = Head(
            next: max(logHeads?[detector] ?? 0, deliveredSeq) + 1,
            deliveredMaxTs: delivered?["ts"] ?? Int64.min,
            deliveredSeq: deliveredSeq)
        state.withLock { $0.heads[detector] = head }
        return head
    }

    private func drain() async {
        while true {
            let batch = state.withLock { s -> [([Reading], CheckedContinuation<Outcome, any Error>)] in
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { s.running = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let (outcomes, scored) = try await database.write {
                    db -> ([Outcome], [(detector: String, sample: RateWindows.Sample)]) in
                    var advanced: [String: Head] = [:]
                    var scored: [(detector: String, sample: RateWindows.Sample)] = []
                    var outcomes: [Outcome] = []
                    let insert = try db.cachedStatement(
                        sql: "INSERT OR IGNORE INTO log (detector, seq, ts, rate, body) VALUES (?, ?, ?, ?, ?)")
                    let delivered = try db.cachedStatement(sql: "SELECT 1 FROM readings WHERE detector = ? AND ts = ?")
                    for (readings, _) in batch {
                        var outcome = Outcome()
                        for reading in readings {
                            var head = try advanced[reading.detector] ?? self.head(reading.detector, db)
                            if reading.timestamp <= head.deliveredMaxTs,
                                try Bool.fetchOne(delivered, arguments: [reading.detector, reading.timestamp]) == true
                            {
                                outcome.duplicates += 1
                                continue
                            }
                            try insert.execute(arguments: [
                                reading.detector, head.next, reading.timestamp, reading.rate,
                                reading.raw.isEmpty ? reading.json : reading.raw,
                            ])
                            if db.changesCount == 1 {
                                outcome.accepted += 1
                                outcome.last[reading.detector] = head.next
                                scored.append(
                                    (reading.detector, RateWindows.Sample(ts: reading.timestamp, rate: reading.rate)))
                                head.next += 1
                                advanced[reading.detector] = head
                            } else {
                                outcome.duplicates += 1
                            }
                        }
                        outcomes.append(outcome)
                    }
                    // Inside the transaction: the next one (or a delivery) sees these heads only after this commits.
                    state.withLock { s in for (detector, head) in advanced { s.heads[detector] = head } }
                    return (outcomes, scored)
                }
                windows.feed(scored)
                for (i, item) in batch.enumerated() { item.1.resume(returning: outcomes[i]) }
            } catch {
                // The transaction rolled back: forget cached heads, they are re-read next time.
                state.withLock { s in
                    s.heads = [:]
                    s.logHeads = nil
                }
                for item in batch { item.1.resume(throwing: error) }
            }
        }
    }
}
