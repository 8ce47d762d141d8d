import Foundation
import GRDB
import PlumbKit
import Synchronization

/// Models shared by every instance of the plugin in this process: the active version of each model and the loaded
/// trees, so a prediction reads neither the database nor the disk.
final class ModelCache: Sendable {
    private let state = Mutex<(active: [String: Int], loaded: [String: BoostedModel])>(([:], [:]))
    private static let caches = Mutex<[String: ModelCache]>([:])

    /// One cache per plugin database.
    static func shared(for path: String) -> ModelCache {
        caches.withLock { c in
            if let cache = c[path] { return cache }
            let cache = ModelCache()
            c[path] = cache
            return cache
        }
    }

    func active(_ model: String) -> (version: Int, model: BoostedModel)? {
        state.withLock { s in
            guard let version = s.active[model], let loaded = s.loaded["\(model)@\(version)"] else { return nil }
            return (version, loaded)
        }
    }

    func activate(_ model: String, version: Int, loaded: BoostedModel) {
        state.withLock { s in
            s.active[model] = version
            s.loaded["\(model)@\(version)"] = loaded
        }
    }
}

/// Stores predictions with group commit: concurrent requests share one transaction (one fsync), and each answer
/// waits for its commit, so a returned prediction is durable.
final class PredictionWriter: Sendable {
    struct Pending: Sendable {
        let model: String
        let version: Int
        let input: String
        let label: String
        let probabilities: String
        let timestamp: Double
    }

    let database: DatabasePool
    private let state = Mutex<(pending: [(Pending, CheckedContinuation<Int64, any Error>)], running: Bool)>(([], false))
    private static let writers = SharedInstances<PredictionWriter>()

    init(database: DatabasePool) { self.database = database }

    static func shared(for path: String, database: DatabasePool) -> PredictionWriter {
        writers.get(path) { PredictionWriter(database: database) }
    }

    /// Stores one prediction; returns its id after the commit.
    func insert(_ p: Pending) async throws -> Int64 {
        try await withCheckedThrowingContinuation { c in
            let start = state.withLock { s -> Bool in
                s.pending.append((p, c))
                if s.running { return false }
                s.running = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Stores many in one transaction (batch prediction).
    func insertAll(_ all: [Pending]) async throws -> [Int64] {
        try await database.write { db in try all.map { try Self.write($0, db) } }
    }

    static func write(_ p: Pending, _ db: Database) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO predictions (model, version, input, label, probabilities, ts) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [p.model, p.version, p.input, p.label, p.probabilities, p.timestamp])
        return db.lastInsertedRowID
    }

    private func drain() async {
        while true {
            let batch = state.withLock { s -> [(Pending, CheckedContinuation<Int64, any Error>)] in
                let batch = s.pending
                s.pending.removeAll(keepingCapacity: true)
                if batch.isEmpty { s.running = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let ids = try await database.write { db in try batch.map { try Self.write($0.0, db) } }
                for (i, item) in batch.enumerated() { item.1.resume(returning: ids[i]) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
    }
}
