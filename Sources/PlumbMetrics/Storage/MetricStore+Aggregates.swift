import Foundation
import GRDB
import GRDBSQLite
import PlumbAPI
import PlumbStore

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
        try await periodSeries(requests).map(\.dictionary)
    }

    /// `aggregates`, each series' periods oldest first, as they are read.
    public func periodSeries(_ requests: [AggregateRequest]) async throws -> [PeriodSeries] {
        let parts = Swift.min(Self.readParallelism, requests.count / Self.parallelReadMinimum + 1)
        guard parts > 1 else { return try await aggregatesInOneRead(requests[...]) }
        let size = (requests.count + parts - 1) / parts
        return try await withThrowingTaskGroup(of: (Int, [PeriodSeries]).self) { group in
            for part in 0..<parts {
                let slice = requests[
                    Swift.min(part * size, requests.count)..<Swift.min((part + 1) * size, requests.count)]
                group.addTask { (part, try await self.aggregatesInOneRead(slice)) }
            }
            var results = [[PeriodSeries]](repeating: [], count: parts)
            for try await (part, read) in group { results[part] = read }
            return results.flatMap { $0 }
        }
    }

    /// Reads in parallel at most this many parts (the cores, up to 4).
    static let readParallelism = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, 4))
    /// A read of at least this many requests is split.
    static let parallelReadMinimum = 128

    private func aggregatesInOneRead(_ requests: ArraySlice<AggregateRequest>) async throws -> [PeriodSeries] {
        let ids = registry.ids(of: requests.map(\.series))
        guard ids.contains(where: { $0 != nil }) else { return requests.map { _ in PeriodSeries() } }
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
            var scratch = ReadScratch()
            return try zip(requests, ids).map { request, id in
                guard let id else { return PeriodSeries() }
                return try self.periods(
                    points, chunks, id: id, request: request, flushed: flushed, scratch: &scratch)
            }
        }
    }

    /// Runs `statement` with integer arguments and hands each row to `body`, on SQLite's own API: a read of
    /// thousands of series pays no cursor, row or argument objects per series.
    static func eachRow(
        _ statement: Statement, _ arguments: Int64..., body: (OpaquePointer) throws -> Void
    ) throws {
        let raw = statement.sqliteStatement
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
        defer { sqlite3_reset(raw) }
        for (i, argument) in arguments.enumerated() { sqlite3_bind_int64(raw, Int32(i + 1), argument) }
        while true {
            let code = sqlite3_step(raw)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw StoreError(
                    code: .io,
                    message: "reading metrics: \(String(cString: sqlite3_errmsg(sqlite3_db_handle(raw))))")
            }
            try body(raw)
        }
    }

    /// Buffers one read reuses from series to series.
    struct ReadScratch {
        /// The body of a zlib chunk.
        var inflated: [UInt8] = []
        var counts: [Int] = []
        var sums: [Double] = []
        var mins: [Double] = []
        var maxs: [Double] = []
        var slotOf: [Int32] = []
        var kept: [Double] = []
        var grouped: [Double] = []
        /// The slots that received a sample, in the order they did; only these are reset after a series, so a read
        /// of many fine periods with few samples (PromQL reads per second over hours) costs its samples, not its
        /// periods.
        var touched: [Int] = []
        var touchedInOrder = true

        /// Makes `slots` slots available, all empty: the arrays only grow, and every slot a series touched was put
        /// back by `clear()`.
        mutating func reset(slots: Int) {
            if counts.count < slots {
                let more = slots - counts.count
                counts.append(contentsOf: repeatElement(0, count: more))
                sums.append(contentsOf: repeatElement(0, count: more))
                mins.append(contentsOf: repeatElement(.infinity, count: more))
                maxs.append(contentsOf: repeatElement(-.infinity, count: more))
            }
            slotOf.removeAll(keepingCapacity: true)
            kept.removeAll(keepingCapacity: true)
            touched.removeAll(keepingCapacity: true)
            touchedInOrder = true
        }

        /// Empties the touched slots again.
        mutating func clear() {
            for s in touched {
                counts[s] = 0
                sums[s] = 0
                mins[s] = .infinity
                maxs[s] = -.infinity
            }
            touched.removeAll(keepingCapacity: true)
        }

        static func refill<T>(_ array: inout [T], _ value: T, _ count: Int) {
            array.removeAll(keepingCapacity: true)
            array.append(contentsOf: repeatElement(value, count: count))
        }
    }

    private func periods(
        _ points: Statement, _ chunks: Statement, id: Int64, request: AggregateRequest, flushed: Int64,
        scratch: inout ReadScratch
    ) throws -> PeriodSeries {
        let (period, start, end) = (request.period, request.start, request.end)
        // Raw samples on the period grid are summed up in flat arrays (one slot per period), their values kept in
        // one array with their slot when percentiles are wanted. Samples off the grid, aggregate rows and the head
        // go to `extra`, merged into the grid's periods at the end (nothing to merge, no hashing, in the usual case).
        var extra: [Int64: Aggregate] = [:]
        let first = floorDiv(start, period) * period
        let slots = Int(max(0, min((end - first + period - 1) / period, 100_000)))
        scratch.reset(slots: slots)
        try Self.eachRow(chunks, id, start - ChunkLayout.maxSpan, end, start) { raw in
            // Columns read where SQLite holds them: the chunk is decoded from SQLite's buffer as it is walked.
            let r = sqlite3_column_int64(raw, 0)
            guard r > 0 else { throw StoreError(code: .corrupt, message: "chunk resolution \(r)") }
            let length = Int(sqlite3_column_bytes(raw, 2))
            // When the period is a multiple of the resolution (always, for 1 s data), a sample's period is the one
            // its own time falls in: found by walking the slot boundaries (timestamps are in order in a chunk),
            // with a division only when a sample is outside the current slot.
            let direct = period % r == 0
            var slot: Int64 = -1
            var slotStart: Int64 = .max
            var inflated: [UInt8] = []
            swap(&inflated, &scratch.inflated)
            defer { swap(&inflated, &scratch.inflated) }
            try ChunkCodec.forEachSample(
                UnsafeRawBufferPointer(start: sqlite3_column_blob(raw, 2), count: length), inflated: &inflated
            ) { t, value in
                guard t >= start && t < end else { return }
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
                        extra[key, default: Aggregate.raw()].addRaw(value)
                    } else {
                        extra[key, default: Aggregate()].add(value)
                    }
                    return
                }
                let s = Int(slot)
                if scratch.counts[s] == 0 {
                    if let last = scratch.touched.last, last > s { scratch.touchedInOrder = false }
                    scratch.touched.append(s)
                }
                scratch.counts[s] += 1
                scratch.sums[s] += value
                if value < scratch.mins[s] { scratch.mins[s] = value }
                if value > scratch.maxs[s] { scratch.maxs[s] = value }
                if request.distribution {
                    scratch.slotOf.append(Int32(s))
                    scratch.kept.append(value)
                }
            }
        }
        // The kept values grouped by slot (a counting sort), each slot's run becoming its period's raw values.
        var offsets: [Int] = []
        if request.distribution {
            offsets = [Int](repeating: 0, count: slots + 1)
            for s in 0..<slots { offsets[s + 1] = offsets[s] + scratch.counts[s] }
            var fill = offsets
            ReadScratch.refill(&scratch.grouped, 0, scratch.kept.count)
            for (k, s) in scratch.slotOf.enumerated() {
                scratch.grouped[fill[Int(s)]] = scratch.kept[k]
                fill[Int(s)] += 1
            }
        }
        // Rows of coarser tiers start before `start` yet may hold data from inside the range only when the
        // period is finer than the tier; such a row is attributed to the period its start falls in.
        try Self.eachRow(points, id, start, end) { raw in
            let ts = sqlite3_column_int64(raw, 0)
            var distribution: [UInt8]?
            if sqlite3_column_type(raw, 5) != SQLITE_NULL {
                let length = Int(sqlite3_column_bytes(raw, 5))
                distribution =
                    length == 0 ? [] : Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(raw, 5), count: length))
            }
            let aggregate = try Aggregate.decode(
                count: sqlite3_column_double(raw, 1), sum: sqlite3_column_double(raw, 2),
                min: sqlite3_column_double(raw, 3), max: sqlite3_column_double(raw, 4), distribution: distribution)
            extra[floorDiv(ts, period) * period, default: Aggregate()].merge(aggregate)
        }
        state.withLock { s in
            head.read(series: id, start: start, end: end, period: period, into: &extra)
            for entry in s.flushing where entry.generation > flushed {
                entry.taken.read(series: id, start: start, end: end, period: period, into: &extra)
            }
        }
        var result = PeriodSeries()
        result.starts.reserveCapacity(scratch.touched.count + extra.count)
        result.aggregates.reserveCapacity(scratch.touched.count + extra.count)
        if !scratch.touchedInOrder { scratch.touched.sort() }
        defer { scratch.clear() }
        for s in scratch.touched {
            var aggregate = Aggregate()
            aggregate.count = Double(scratch.counts[s])
            aggregate.sum = scratch.sums[s]
            aggregate.min = scratch.mins[s]
            aggregate.max = scratch.maxs[s]
            if request.distribution {
                aggregate.raw = Array(scratch.grouped[offsets[s]..<offsets[s + 1]])
            } else {
                aggregate.hasDistribution = false
            }
            let key = first + Int64(s) * period
            if !extra.isEmpty, let more = extra.removeValue(forKey: key) { aggregate.merge(more) }
            result.starts.append(key)
            result.aggregates.append(aggregate)
        }
        // Periods only off-grid data, rows or the head hold: added, and the whole put back in order.
        if !extra.isEmpty {
            for (key, aggregate) in extra {
                result.starts.append(key)
                result.aggregates.append(aggregate)
            }
            let order = result.starts.indices.sorted { result.starts[$0] < result.starts[$1] }
            result = PeriodSeries(
                starts: order.map { result.starts[$0] }, aggregates: order.map { result.aggregates[$0] })
        }
        return result
    }
}
