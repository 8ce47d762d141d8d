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
    /// Rolls aged buckets into the next tier and deletes buckets past the last tier. Flushes first so that
    /// aged buckets still in the head are included.
    @discardableResult
    public func rollup() async throws -> RollupReport {
        try await flush()
        let now = clock()
        return try await database.pool.write { db in
            var report = RollupReport()
            let tiers = RetentionTier.tiers
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
            return report
        }
    }
}
