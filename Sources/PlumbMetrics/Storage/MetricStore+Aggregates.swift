import GRDB
import PlumbAPI

extension MetricStore {
    /// Per-period aggregates for many (series, period, range) at once, in one read transaction: alarm evaluation
    /// reads thousands of short ranges per tick. Periods are keyed by their epoch-aligned start.
    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        let ids = requests.map { registry.id(of: $0.series) }
        guard ids.contains(where: { $0 != nil }) else { return requests.map { _ in [:] } }
        return try await database.pool.read { db in
            let flushed = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'flushed_generation'") ?? 0
            let statement = try db.cachedStatement(
                sql: "SELECT ts, count, sum, min, max, dist FROM points WHERE series = ? AND ts >= ? AND ts < ?")
            return try zip(requests, ids).map { request, id in
                guard let id else { return [:] }
                return try self.periods(statement, id: id, request: request, flushed: flushed)
            }
        }
    }

    private func periods(
        _ statement: Statement, id: Int64, request: AggregateRequest, flushed: Int64
    ) throws -> [Int64: Aggregate] {
        let (period, start, end) = (request.period, request.start, request.end)
        var periods: [Int64: Aggregate] = [:]
        // Rows of coarser tiers start before `start` yet may hold data from inside the range only when the
        // period is finer than the tier; such a row is attributed to the period its start falls in.
        let rows = try Row.fetchCursor(statement, arguments: [id, start, end])
        while let row = try rows.next() {
            let ts: Int64 = row["ts"]
            periods[floorDiv(ts, period) * period, default: Aggregate()].merge(try Aggregate.decode(row))
        }
        let memory = self.state.withLock { s in
            var buckets = s.head.buckets(of: id, from: start, to: end)
            for entry in s.flushing where entry.generation > flushed {
                buckets += entry.head.buckets(of: id, from: start, to: end)
            }
            return buckets
        }
        for (key, aggregate) in memory {
            periods[floorDiv(key.start, period) * period, default: Aggregate()].merge(aggregate)
        }
        return periods
    }
}
