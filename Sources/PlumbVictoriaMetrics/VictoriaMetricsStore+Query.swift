import Foundation
import NIOCore
import PlumbAPI
import PlumbMetrics

/// Period reads without percentiles through the query API: VictoriaMetrics computes each period's count, sum and
/// extremes itself (`count_over_time`, `sum_over_time`, `min_over_time`, `max_over_time` over the value series and
/// the companions), so a read of thousands of series (an alarm tick, a dashboard) moves one number per period
/// instead of every sample.
///
/// A CloudWatch period `[s, s + p)` is PromQL's window `(t − p, t]` evaluated at `t = s + p − 1 ms`: samples are
/// stored at millisecond times, so the window holds exactly the samples from `s` to `s + p − 1 ms`
/// (the conformance suite's `periodEdges` pins both edges).
extension VictoriaMetricsStore {
    /// The four rollups a period read asks for (one query, a `union` of them); the parts each one is read from are
    /// in `queryPeriods`.
    enum Rollup: String, CaseIterable {
        case count = "count_over_time"
        case sum = "sum_over_time"
        case min = "min_over_time"
        case max = "max_over_time"
    }

    /// The matchers of `keys`' stored series: their value series and count/sum/min/max companions, never buckets or
    /// catalog entries.
    static func matchers(_ keys: [SeriesKey]) -> String {
        let ids = keys.map { SeriesLabels.id($0) }.joined(separator: "|")
        return "{\(SeriesLabels.idLabel)=~\"\(ids)\",\(SeriesLabels.bucketLabel)=\"\",__name__!~\".*:plumb_series\"}"
    }

    /// Whether the query API can answer `request` exactly: no percentiles, and whole periods only (`aggregates`
    /// reads the periods a range only partly covers from raw samples).
    static func queryable(_ request: AggregateRequest) -> Bool {
        !request.distribution && request.start % request.period == 0 && request.end % request.period == 0
    }

    /// At most this many periods per series in one query (VictoriaMetrics refuses more than
    /// `-search.maxPointsPerTimeseries`, 30,000 by default).
    static let periodsPerQuery: Int64 = 10_000
    /// Series asked for in one query (their ids in one regular expression).
    static let seriesPerQuery = 64

    /// The periods of requests that are all `queryable`. Requests with the same period are asked together over the
    /// union of their ranges (an alarm tick reads a few windows per period), 64 series a query, and each request
    /// keeps the periods of its own range.
    func queryRead(_ requests: [(Int, AggregateRequest)]) async throws -> [(Int, [Int64: Aggregate])] {
        var byPeriod: [Int64: (start: Int64, end: Int64, series: [SeriesKey: [(Int, AggregateRequest)]])] = [:]
        for (index, request) in requests {
            var entry = byPeriod[request.period] ?? (request.start, request.end, [:])
            entry.start = min(entry.start, request.start)
            entry.end = max(entry.end, request.end)
            entry.series[request.series, default: []].append((index, request))
            byPeriod[request.period] = entry
        }
        var jobs:
            [(
                period: Int64, start: Int64, end: Int64, keys: [SeriesKey],
                series: [SeriesKey: [(Int, AggregateRequest)]]
            )] = []
        for (period, entry) in byPeriod {
            // By id, 64 a query: selecting a whole metric instead fetched every series of it (twice the data for a
            // read of half of them) and answered slower than four parallel queries by id.
            let keys = Array(entry.series.keys)
            for batch in stride(from: 0, to: keys.count, by: Self.seriesPerQuery) {
                let slice = keys[batch..<min(batch + Self.seriesPerQuery, keys.count)]
                jobs.append(
                    (
                        period, entry.start, entry.end, Array(slice),
                        Dictionary(uniqueKeysWithValues: slice.map { ($0, entry.series[$0]!) })
                    ))
            }
        }
        var results: [(Int, [Int64: Aggregate])] = []
        try await withThrowingTaskGroup(of: [(Int, [Int64: Aggregate])].self) { group in
            var next = 0
            func addJob() {
                guard next < jobs.count else { return }
                let job = jobs[next]
                next += 1
                group.addTask {
                    let periods = try await self.queryPeriods(
                        job.keys, period: job.period, start: job.start, end: job.end)
                    return job.series.flatMap { key, wanted in
                        wanted.map { index, request in
                            (index, (periods[key] ?? [:]).filter { $0.key >= request.start && $0.key < request.end })
                        }
                    }
                }
            }
            for _ in 0..<4 { addJob() }
            while let done = try await group.next() {
                results += done
                addJob()
            }
        }
        return results
    }

    /// Each series' periods over `[start, end)` (both multiples of `period`).
    func queryPeriods(
        _ keys: [SeriesKey], period: Int64, start: Int64, end: Int64
    ) async throws -> [SeriesKey: [Int64: Aggregate]] {
        struct Fold {
            var count = 0.0
            var sum = 0.0
            var min = Double.infinity
            var max = -Double.infinity
        }
        var folds: [SeriesKey: [Int64: Fold]] = [:]
        let wanted = Set(keys)
        let series = Self.matchers(keys)
        // One query: the four rollups, each result tagged with its own (`plumb_rollup`).
        let query =
            "union("
            + Rollup.allCases.map {
                "label_set(\($0.rawValue)(\(series)[\(period)s]) keep_metric_names, \"plumb_rollup\", \"\($0.rawValue)\")"
            }.joined(separator: ", ") + ")"
        var chunkStart = start
        while chunkStart < end {
            let chunkEnd = min(end, chunkStart + Self.periodsPerQuery * period)
            do {
                let form = [
                    ("query", query),
                    // The first window ends 1 ms before the first period ends: (s − 1 ms, s + p − 1 ms].
                    ("start", Self.secondsText(milliseconds: (chunkStart + period) * 1_000 - 1)),
                    ("end", Self.secondsText(milliseconds: chunkEnd * 1_000 - 1)),
                    ("step", "\(period)s"), ("nocache", "1"), ("latency_offset", "0"),
                ]
                for (labels, points) in try await queryRange(form) {
                    guard let rollup = labels["plumb_rollup"].flatMap(Rollup.init(rawValue:)),
                        let (key, part, _) = SeriesLabels.parse(labels), wanted.contains(key)
                    else { continue }
                    // The series' periods are taken out once and put back after its points (a key is hashed
                    // once per series, not per point).
                    var periods = folds.removeValue(forKey: key) ?? [:]
                    defer { folds[key] = periods }
                    for (evaluated, value) in points {
                        let slot = evaluated + 1 - period * 1_000
                        guard slot % 1_000 == 0 else { continue }
                        let periodStart = slot / 1_000
                        guard periodStart >= start && periodStart < end else { continue }
                        switch (rollup, part) {
                        case (.count, .value), (.sum, .count): periods[periodStart, default: Fold()].count += value
                        case (.sum, .value), (.sum, .sum): periods[periodStart, default: Fold()].sum += value
                        case (.min, .value), (.min, .min):
                            periods[periodStart, default: Fold()].min = Swift.min(
                                periods[periodStart]?.min ?? value, value)
                        case (.max, .value), (.max, .max):
                            periods[periodStart, default: Fold()].max = Swift.max(
                                periods[periodStart]?.max ?? value, value)
                        default: continue
                        }
                    }
                }
            }
            chunkStart = chunkEnd
        }
        return folds.mapValues { periods in
            periods.compactMapValues { fold in
                fold.count > 0
                    ? Aggregate.summary(count: fold.count, sum: fold.sum, min: fold.min, max: fold.max, buckets: nil)
                    : nil
            }
        }
    }

    /// `/api/v1/query_range`: each result's labels and its points (evaluation time in milliseconds, value).
    func queryRange(_ form: [(String, String)]) async throws -> [([String: String], [(Int64, Double)])] {
        let url = settings.selectURL + "/api/v1/query_range"
        let (status, body) = try await client.send(
            .POST, url, body: Array(VictoriaMetricsClient.formEncoded(form).utf8),
            contentType: "application/x-www-form-urlencoded", limit: 256 << 20)
        guard status == 200 else { throw VictoriaMetricsClient.failed(url, status, String(buffer: body)) }
        guard let series = body.withUnsafeReadableBytes({ MatrixParser.parse($0) }) else {
            throw VictoriaMetricsClient.unreadable(url)
        }
        return series
    }
}
