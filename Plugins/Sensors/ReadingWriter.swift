import Foundation
import GRDB
import Logging
import Metrics
import PlumbKit
import Synchronization

/// The durable per-detector log: readings appended with the next sequence number of their detector, concurrent
/// requests sharing one transaction (one fsync); a request's answer waits for its commit.
final class ReadingWriter: Sendable {
    struct Outcome: Sendable {
        var accepted = 0
        var duplicates = 0
        /// Last sequence number per detector written by this request.
        var last: [String: Int64] = [:]
    }

    let database: DatabasePool
    private let state = Mutex<(pending: [([Reading], CheckedContinuation<Outcome, any Error>)], running: Bool, next: [String: Int64], known: Set<String>)>(([], false, [:], []))
    private static let writers = Mutex<[String: ReadingWriter]>([:])

    init(database: DatabasePool) { self.database = database }

    static func shared(for path: String, database: DatabasePool) -> ReadingWriter {
        writers.withLock { w in
            if let writer = w[path] { return writer }
            let writer = ReadingWriter(database: database)
            w[path] = writer
            return writer
        }
    }

    /// The registered detectors among `ids` (cached once seen).
    func knownDetectors(_ ids: Set<String>) async throws -> Set<String> {
        // Only `ids` is hashed (the cache holds every registered detector; set algebra over it would hash it all).
        let missing = state.withLock { s in ids.filter { !s.known.contains($0) } }
        guard !missing.isEmpty else { return ids }
        let found = try await database.read { db in
            try Set(String.fetchAll(db, sql: "SELECT id FROM detectors WHERE id IN (\(missing.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(Array(missing))))
        }
        state.withLock { $0.known.formUnion(found) }
        return ids.subtracting(missing.subtracting(found))
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

    private func drain() async {
        while true {
            let (batch, next) = state.withLock { s -> ([([Reading], CheckedContinuation<Outcome, any Error>)], [String: Int64]) in
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { s.running = false }
                return (batch, s.next)
            }
            if batch.isEmpty { return }
            do {
                let (outcomes, advanced) = try await database.write { db -> ([Outcome], [String: Int64]) in
                    var next = next
                    var outcomes: [Outcome] = []
                    let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO readings (detector, seq, ts, body, rate) VALUES (?, ?, ?, ?, ?)")
                    for (readings, _) in batch {
                        var outcome = Outcome()
                        for reading in readings {
                            let seq: Int64
                            if let n = next[reading.detector] { seq = n } else {
                                seq = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM readings WHERE detector = ?", arguments: [reading.detector]) ?? 0) + 1
                            }
                            try insert.execute(arguments: [reading.detector, seq, reading.timestamp, reading.raw.isEmpty ? reading.json : reading.raw, reading.values["rate_hz"]])
                            if db.changesCount == 1 {
                                outcome.accepted += 1
                                outcome.last[reading.detector] = seq
                                next[reading.detector] = seq + 1
                            } else {
                                outcome.duplicates += 1
                                next[reading.detector] = seq
                            }
                        }
                        outcomes.append(outcome)
                    }
                    return (outcomes, next)
                }
                state.withLock { $0.next = advanced }
                for (i, item) in batch.enumerated() { item.1.resume(returning: outcomes[i]) }
            } catch {
                // The transaction rolled back: forget cached sequence numbers, they are re-read next time.
                state.withLock { $0.next = [:] }
                for item in batch { item.1.resume(throwing: error) }
            }
        }
    }
}
