/// One storage bucket of one series: its resolution and start time.
struct BucketKey: Hashable, Sendable {
    var resolution: Int32
    var start: Int64
}

/// The recent, not yet flushed buckets, per series. Protected by the store's lock.
struct Head: Sendable {
    var series: [Int64: [BucketKey: Aggregate]] = [:]

    mutating func apply(_ samples: [ResolvedSample]) {
        for sample in samples {
            let key = BucketKey(resolution: sample.resolution, start: sample.bucket)
            series[sample.series, default: [:]][key, default: Aggregate()].add(sample.value)
        }
    }

    /// The buckets of `id` that start in `[start, end)`.
    func buckets(of id: Int64, from start: Int64, to end: Int64) -> [(BucketKey, Aggregate)] {
        guard let buckets = series[id] else { return [] }
        return buckets.filter { $0.key.start >= start && $0.key.start < end }.map { ($0.key, $0.value) }
    }
}
