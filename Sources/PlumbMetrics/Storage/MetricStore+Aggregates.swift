import Foundation
import GRDB
import PlumbAPI

extension MetricStore {
    /// Per-period aggregates for many (series, period, range) at once, in one read transaction: alarm evaluation
    /// reads thousands of short ranges per tick. Periods are keyed by their epoch-aligned start.
    ///
    /// A period is built from raw samples (chunks and the head), whose percentiles are then exact, merged with the
    /// aggregate buckets of values with counts, statistic sets and the rolled-up tiers.
    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        let ids = requests.map { registry.id(of: $0.series) }
        guard ids.contains(where: { $0 != nil }) else { return requests.map { _ in [:] } }
        let reader = state.withLock { s in
            s.nextReader += 1
            s.readers[s.nextReader] = s.committed
            return s.nextReader
        }
        defer {
            state.withLock { s in
                s.readers[reader] = nil
                s.pruneFlushing()
            }
        }
        return try await database.pool.read { db in
            let flushed = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed_generation'") ?? 0
            let points = try db.cachedStatement(
                sql: "SELECT ts, count, sum, min, max, dist FROM points WHERE series = ? AND ts >= ? AND ts < ?")
            let chunks = try db.cachedStatement(
                sql: """
                    SELECT res, last, data FROM chunks
                    WHERE series = ? AND res IN (1, 60) AND start > ? AND start < ? AND last >= ?
                    """)
            return try zip(requests, ids).map { request, id in
                guard let id else { return [:] }
                return try self.periods(points, chunks, id: id, request: request, flushed: flushed)
            }
        }
    }

    private func periods(
        _ points: Statement, _ chunks: Statement, id: Int64, request: AggregateRequest, flushed: Int64
    ) throws -> [Int64: Aggregate] {
        let (period, start, end) = (request.period, request.start, request.end)
        var periods: [Int64: Aggregate] = [:]
        // Raw values gathered per period of the grid first (an array, not a dictionary: a read covers many chunks).
        let first = floorDiv(start, period) * period
        let slots = Int(min((end - first + period - 1) / period, 100_000))
        var gathered = [[Double]](repeating: [], count: max(slots, 0))
        let stored = try Row.fetchCursor(chunks, arguments: [id, start - ChunkLayout.maxSpan, end, start])
        while let row = try stored.next() {
            let r = Int64(row["res"] as Int64)
            let chunk = try ChunkCodec.decode([UInt8](row["data"] as Data))
            for (i, t) in chunk.timestamps.enumerated() where t >= start && t < end {
                let key = floorDiv(floorDiv(t, r) * r, period) * period
                let slot = (key - first) / period
                if key >= first && slot < slots {
                    gathered[Int(slot)].append(chunk.values[i])
                } else {
                    periods[key, default: Aggregate.raw()].addRaw(chunk.values[i])
                }
            }
        }
        for (slot, values) in gathered.enumerated() where !values.isEmpty {
            let key = first + Int64(slot) * period
            if periods[key] == nil {
                periods[key] = Aggregate.raw(values)
            } else {
                periods[key]!.merge(Aggregate.raw(values))
            }
        }
        // Rows of coarser tiers start before `start` yet may hold data from inside the range only when the
        // period is finer than the tier; such a row is attributed to the period its start falls in.
        let rows = try Row.fetchCursor(points, arguments: [id, start, end])
        while let row = try rows.next() {
            let ts: Int64 = row["ts"]
            periods[floorDiv(ts, period) * period, default: Aggregate()].merge(try Aggregate.decode(row))
        }
        state.withLock { s in
            head.read(series: id, start: start, end: end, period: period, into: &periods)
            for entry in s.flushing where entry.generation > flushed {
                entry.parts[SampleHead.shard(of: id)].read(
                    series: id, start: start, end: end, period: period, into: &periods)
            }
        }
        return periods
    }
}
