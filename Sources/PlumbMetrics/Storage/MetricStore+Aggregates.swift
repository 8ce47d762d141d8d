import Foundation
import GRDB
import PlumbAPI

extension MetricStore {
    /// Per-period aggregates for many (series, period, range) at once: alarm evaluation reads thousands of short
    /// ranges per tick, a metric-data request up to 500 series. Periods are keyed by their epoch-aligned start.
    ///
    /// A period is built from raw samples (chunks and the head), whose percentiles are then exact, merged with the
    /// aggregate buckets of values with counts, statistic sets and the rolled-up tiers.
    ///
    /// Up to `parallelReadMinimum` requests are read in one read transaction. A larger read is split over the
    /// cores, each part in its own read transaction: every series is read whole from one consistent state, but two
    /// series may come from states a flush apart (which changes where data is read from, never what it is).
    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        let parts = Swift.min(Self.readParallelism, requests.count / Self.parallelReadMinimum + 1)
        guard parts > 1 else { return try await aggregatesInOneRead(requests[...]) }
        let size = (requests.count + parts - 1) / parts
        return try await withThrowingTaskGroup(of: (Int, [[Int64: Aggregate]]).self) { group in
            for part in 0..<parts {
                let slice = requests[
                    Swift.min(part * size, requests.count)..<Swift.min((part + 1) * size, requests.count)]
                group.addTask { (part, try await self.aggregatesInOneRead(slice)) }
            }
            var results = [[[Int64: Aggregate]]](repeating: [], count: parts)
            for try await (part, read) in group { results[part] = read }
            return results.flatMap { $0 }
        }
    }

    /// Reads in parallel at most this many parts (the cores, up to 4).
    static let readParallelism = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, 4))
    /// A read of at least this many requests is split.
    static let parallelReadMinimum = 128

    private func aggregatesInOneRead(_ requests: ArraySlice<AggregateRequest>) async throws -> [[Int64: Aggregate]] {
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
        // Raw samples on the period grid are summed up in flat arrays (one slot per period), their values kept in
        // one array with their slot when percentiles are wanted; samples off the grid go to the dictionary.
        let first = floorDiv(start, period) * period
        let slots = Int(max(0, min((end - first + period - 1) / period, 100_000)))
        periods.reserveCapacity(slots)
        var counts = [Int](repeating: 0, count: slots)
        var sums = [Double](repeating: 0, count: slots)
        var mins = [Double](repeating: .infinity, count: slots)
        var maxs = [Double](repeating: -.infinity, count: slots)
        var slotOf: [Int32] = []
        var kept: [Double] = []
        let stored = try Row.fetchCursor(chunks, arguments: [id, start - ChunkLayout.maxSpan, end, start])
        while let row = try stored.next() {
            let r = Int64(row["res"] as Int64)
            let chunk = try row.withUnsafeData(atIndex: 2) { data in
                try ChunkCodec.decode(data.map { [UInt8]($0) } ?? [])
            }
            // When the period is a multiple of the resolution (always, for 1 s data), a sample's period is the one
            // its own time falls in: found by walking the slot boundaries (timestamps are in order in a chunk),
            // with a division only when a sample is outside the current slot.
            let direct = period % r == 0
            var slot: Int64 = -1
            var slotStart: Int64 = .max
            for (i, t) in chunk.timestamps.enumerated() where t >= start && t < end {
                let value = chunk.values[i]
                if direct {
                    if t < slotStart || t - slotStart >= period {
                        slot = (t - first) / period
                        slotStart = first + slot * period
                    }
                } else {
                    slot = (floorDiv(floorDiv(t, r) * r, period) * period - first) / period
                    slotStart = first + slot * period
                }
                let key = slotStart
                guard key >= first && slot < slots else {
                    if request.distribution {
                        periods[key, default: Aggregate.raw()].addRaw(value)
                    } else {
                        periods[key, default: Aggregate()].add(value)
                    }
                    continue
                }
                let s = Int(slot)
                counts[s] += 1
                sums[s] += value
                if value < mins[s] { mins[s] = value }
                if value > maxs[s] { maxs[s] = value }
                if request.distribution {
                    slotOf.append(Int32(s))
                    kept.append(value)
                }
            }
        }
        // The kept values grouped by slot (a counting sort), each slot's run becoming its period's raw values.
        var offsets = [Int](repeating: 0, count: slots + 1)
        if request.distribution {
            for s in 0..<slots { offsets[s + 1] = offsets[s] + counts[s] }
            var fill = offsets
            var grouped = [Double](repeating: 0, count: kept.count)
            for (k, s) in slotOf.enumerated() {
                grouped[fill[Int(s)]] = kept[k]
                fill[Int(s)] += 1
            }
            kept = grouped
        }
        for s in 0..<slots where counts[s] > 0 {
            var aggregate = Aggregate()
            aggregate.count = Double(counts[s])
            aggregate.sum = sums[s]
            aggregate.min = mins[s]
            aggregate.max = maxs[s]
            if request.distribution {
                aggregate.raw = Array(kept[offsets[s]..<offsets[s + 1]])
            } else {
                aggregate.hasDistribution = false
            }
            let key = first + Int64(s) * period
            if periods[key] == nil {
                periods[key] = aggregate
            } else {
                periods[key]!.merge(aggregate)
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
                entry.taken.read(series: id, start: start, end: end, period: period, into: &periods)
            }
        }
        return periods
    }
}
