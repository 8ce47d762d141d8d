import Foundation
import GRDB

/// CloudWatch's retention tiers: finer data is rolled up into the next tier when it ages out.
///
/// Points under 60 s are kept 3 hours, 60 s points 15 days, 5-minute points 63 days, 1-hour points 455 days.
/// Rolling up merges whole buckets (count, sum, min, max and distribution), so statistics over periods that
/// are multiples of the coarser resolution are unchanged by a rollup.
public struct RetentionTier: Sendable {
    public let resolution: Int32
    public let keepSeconds: Int64

    public static let tiers: [RetentionTier] = [
        RetentionTier(resolution: 1, keepSeconds: 3 * 3_600),
        RetentionTier(resolution: 60, keepSeconds: 15 * 86_400),
        RetentionTier(resolution: 300, keepSeconds: 63 * 86_400),
        RetentionTier(resolution: 3_600, keepSeconds: 455 * 86_400),
    ]
}

/// What one rollup pass did.
public struct RollupReport: Sendable, Equatable {
    public var rolledUp = 0
    public var expired = 0
}

extension MetricStore {
    /// Rolls aged data into the next tier and deletes data past the last tier. Flushes first so that aged samples still
    /// in the head are included.
    ///
    /// Raw samples at 1 s resolution become 60 s samples after 3 hours (the same raw values, read per minute from then
    /// on); raw samples are summarised into 5-minute buckets after 15 days.
    @discardableResult
    public func rollup() async throws -> RollupReport {
        try await exclusively {
            try await flushLocked()
            return try await rollupLocked()
        }
    }

    private func rollupLocked() async throws -> RollupReport {
        let now = clock()
        let (report, touched) = try await database.pool.write { db -> (RollupReport, Set<Int64>) in
            var report = RollupReport()
            var touched: Set<Int64> = []
            let tiers = RetentionTier.tiers
            try Self.rollupChunks(db, now: now, report: &report, touched: &touched)
            for (from, to) in zip(tiers, tiers.dropFirst()) {
                // Align the cutoff to the target resolution so a target bucket is never split across tiers.
                let cutoff = floorDiv(now - from.keepSeconds, Int64(to.resolution)) * Int64(to.resolution)
                var merged: [Int64: [BucketKey: Aggregate]] = [:]
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT series, ts, count, sum, min, max, dist FROM points WHERE res = ? AND ts < ?",
                    arguments: [from.resolution, cutoff])
                while let row = try rows.next() {
                    let key = BucketKey(
                        resolution: to.resolution,
                        start: floorDiv(row["ts"], Int64(to.resolution)) * Int64(to.resolution))
                    merged[row["series"], default: [:]][key, default: Aggregate()].merge(try Aggregate.decode(row))
                    report.rolledUp += 1
                }
                try Self.mergeIntoPoints(
                    db, merged.lazy.flatMap { id, buckets in buckets.lazy.map { (id, $0.key, $0.value) } })
                try db.execute(
                    sql: "DELETE FROM points WHERE res = ? AND ts < ?", arguments: [from.resolution, cutoff])
            }
            let last = tiers.last!
            try db.execute(
                sql: "DELETE FROM points WHERE res = ? AND ts < ?",
                arguments: [last.resolution, now - last.keepSeconds])
            report.expired = db.changesCount
            return (report, touched)
        }
        // Streams whose chunks moved: their newest chunk is looked up again at the next flush.
        state.withLock { s in for stream in touched { s.lastChunks[stream] = nil } }
        return report
    }

    /// 1 s chunks older than 3 hours move to the 60 s stream; 60 s chunks older than 15 days are summarised into
    /// 5-minute buckets of `points`.
    private static func rollupChunks(
        _ db: Database, now: Int64, report: inout RollupReport, touched: inout Set<Int64>
    )
        throws
    {
        let tiers = RetentionTier.tiers
        let highCutoff = floorDiv(now - tiers[0].keepSeconds, 60) * 60
        // The same rows under the 60 s stream, moved inside SQLite (ids are unique, so no key collides).
        let moving = try Int64.fetchAll(
            db, sql: "SELECT DISTINCT series FROM chunks WHERE res = 1 AND last < ?", arguments: [highCutoff])
        try db.execute(
            sql: """
                INSERT INTO chunks (series, res, start, id, last, count, data)
                SELECT series, 60, start, id, last, count, data FROM chunks WHERE res = 1 AND last < ?
                """, arguments: [highCutoff])
        report.rolledUp += db.changesCount
        try db.execute(sql: "DELETE FROM chunks WHERE res = 1 AND last < ?", arguments: [highCutoff])
        for series in moving {
            touched.insert(StreamKey.make(series: series, resolution: 1))
            touched.insert(StreamKey.make(series: series, resolution: 60))
        }
        let rawCutoff = floorDiv(now - tiers[1].keepSeconds, 300) * 300
        var merged: [Int64: [BucketKey: Aggregate]] = [:]
        var summarised: [(series: Int64, start: Int64, id: Int64)] = []
        let old = try Row.fetchCursor(
            db, sql: "SELECT series, start, id, data FROM chunks WHERE res = 60 AND last < ?", arguments: [rawCutoff])
        while let row = try old.next() {
            let series: Int64 = row["series"]
            let chunk = try ChunkCodec.decode([UInt8](row["data"] as Data))
            for (t, v) in zip(chunk.timestamps, chunk.values) {
                let key = BucketKey(resolution: 300, start: floorDiv(t, 300) * 300)
                merged[series, default: [:]][key, default: Aggregate()].add(v)
            }
            summarised.append((series, row["start"], row["id"]))
            touched.insert(StreamKey.make(series: series, resolution: 60))
            report.rolledUp += 1
        }
        try mergeIntoPoints(db, merged.lazy.flatMap { id, buckets in buckets.lazy.map { (id, $0.key, $0.value) } })
        for chunk in summarised {
            try db.execute(
                sql: "DELETE FROM chunks WHERE series = ? AND res = 60 AND start = ? AND id = ?",
                arguments: [chunk.series, chunk.start, chunk.id])
        }
    }
}
