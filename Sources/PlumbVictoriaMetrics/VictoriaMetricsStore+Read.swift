import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI
import PlumbMetrics
import Synchronization

/// Period reads: the whole periods of reads without percentiles through the query API (`+Query`), everything else
/// from raw samples (`/api/v1/export`).
extension VictoriaMetricsStore {
    /// Reads without percentiles over whole periods go through the query API (`queryRead`); the others fetch the
    /// raw samples (`read`), so percentiles are exact where the samples are kept.
    public func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]] {
        // Parts: a read without percentiles is split into its whole periods (asked of the query API) and the
        // periods it only partly covers, at either edge (read from raw samples); each part knows its request.
        var parts: [(owner: Int, request: AggregateRequest)] = []
        // Periods ending after this are left out by the query API (see `queryLatency`): raw samples for them.
        let horizon = clock() - (queryLatency > 0 ? queryLatency + 1 : 0)
        var recent: Set<Int> = []
        for (i, request) in requests.enumerated() {
            guard request.period > 0 else { throw MetricsError.invalid("period must be positive") }
            guard !request.distribution, request.start < request.end else {
                parts.append((i, request))
                continue
            }
            let p = request.period
            let inner = (
                start: Checked.floorDivision(request.start + p - 1, p) * p,
                end: Checked.floorDivision(request.end, p) * p
            )
            guard inner.start < inner.end else {
                parts.append((i, request))
                continue
            }
            let cut = min(inner.end, max(inner.start, Checked.floorDivision(horizon, p) * p))
            if inner.start < cut {
                var whole = request
                (whole.start, whole.end) = (inner.start, cut)
                parts.append((i, whole))
            }
            if cut < inner.end {
                var newest = request
                (newest.start, newest.end) = (cut, inner.end)
                recent.insert(parts.count)
                parts.append((i, newest))
            }
            if request.start < inner.start {
                var edge = request
                edge.end = inner.start
                parts.append((i, edge))
            }
            if inner.end < request.end {
                var edge = request
                edge.start = inner.end
                parts.append((i, edge))
            }
        }
        var byKey: [SeriesKey: [Int]] = [:]
        var queried: [(Int, AggregateRequest)] = []
        for (index, part) in parts.enumerated() {
            if Self.queryable(part.request) && !recent.contains(index) {
                queried.append((index, part.request))
            } else {
                byKey[part.request.series, default: []].append(index)
            }
        }
        let keys = Array(byKey.keys)
        let budget = ReadBudget(settings.maxReadSamples)
        var results = [[Int64: Aggregate]](repeating: [:], count: requests.count)
        // Parts of one request cover different periods: their results are merged by period.
        func collect(_ done: [(Int, [Int64: Aggregate])]) {
            for (index, periods) in done {
                results[parts[index].owner].merge(periods) { first, _ in first }
            }
        }
        try await withThrowingTaskGroup(of: [(Int, [Int64: Aggregate])].self) { group in
            var next = 0
            func addBatch() {
                guard next < keys.count else { return }
                let batch = Array(keys[next..<min(next + Self.exportBatch, keys.count)])
                next += batch.count
                let wanted = batch.map { key in (key, byKey[key]!.map { ($0, parts[$0].request) }) }
                group.addTask { try await self.read(wanted, budget: budget) }
            }
            for _ in 0..<4 { addBatch() }
            while let done = try await group.next() {
                collect(done)
                addBatch()
            }
        }
        if !queried.isEmpty { collect(try await queryRead(queried)) }
        return results
    }

    /// One export for a few series, folded into the periods of every request on them.
    func read(
        _ wanted: [(SeriesKey, [(Int, AggregateRequest)])], budget: ReadBudget
    ) async throws -> [(Int, [Int64: Aggregate])] {
        var start = Int64.max
        var end = Int64.min
        for (_, requests) in wanted {
            for (_, request) in requests {
                start = min(start, request.start)
                end = max(end, request.end)
            }
        }
        var folds: [SeriesKey: [(Int, PeriodFold)]] = [:]
        for (key, requests) in wanted { folds[key] = requests.map { ($0.0, PeriodFold($0.1)) } }
        guard start < end else { return folds.values.flatMap { $0.map { ($0.0, $0.1.result()) } } }
        var form = wanted.map { ("match[]", "{\(SeriesLabels.idLabel)=\"\(SeriesLabels.id($0.0))\"}") }
        form.append(("start", String(start)))
        form.append(("end", Self.secondsText(milliseconds: end * 1_000 - 1)))
        let maxRead = settings.maxReadSamples
        try await client.eachLine(settings.selectURL + "/api/v1/export", form: form) { line in
            guard case .object(let object) = JSONValue.parseStrict(line), case .object(let metric) = object["metric"],
                case .array(let values) = object["values"], case .array(let timestamps) = object["timestamps"],
                values.count == timestamps.count
            else { throw VictoriaMetricsClient.unreadable(self.settings.selectURL + "/api/v1/export") }
            var labels: [String: String] = [:]
            for (name, value) in metric { if case .string(let value) = value { labels[name] = value } }
            guard let (key, part, bucket) = SeriesLabels.parse(labels), part != .catalog, folds[key] != nil else {
                return
            }
            // Only samples some request on the series asked for count against the budget.
            var used = 0
            for i in folds[key]!.indices {
                used = max(
                    used, folds[key]![i].1.add(part: part, bucket: bucket, timestamps: timestamps, values: values))
            }
            let remaining = budget.remaining.subtract(used, ordering: .relaxed).newValue
            guard remaining >= 0 else {
                throw MetricsError(
                    code: "LimitExceeded",
                    message:
                        "the read needs more than \(maxRead) raw samples (storage.victoriametrics.max_read_samples): "
                        + "ask for a shorter range or fewer series")
            }
        }
        return folds.values.flatMap { $0.map { ($0.0, $0.1.result()) } }
    }
}

/// Raw samples a read may still fetch, shared by its parallel exports.
final class ReadBudget: Sendable {
    let remaining: Atomic<Int>
    init(_ samples: Int) { remaining = Atomic(samples) }
}

extension VictoriaMetricsStore {
    /// Milliseconds as the decimal seconds VictoriaMetrics reads (`-4001` is `-4.001`).
    static func secondsText(milliseconds: Int64) -> String {
        let magnitude = milliseconds.magnitude
        let fraction = String(magnitude % 1_000)
        return (milliseconds < 0 ? "-" : "") + "\(magnitude / 1_000)."
            + String(repeating: "0", count: 3 - fraction.count)
            + fraction
    }
}
