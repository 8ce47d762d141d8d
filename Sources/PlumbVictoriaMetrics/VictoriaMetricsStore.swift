import AsyncHTTPClient
import Foundation
import NIOCore
import PlumbAPI
import PlumbMetrics
import Synchronization

/// The metric contract on VictoriaMetrics: writes through `/api/v1/import`, raw reads through `/api/v1/export`, the
/// catalog through `/api/v1/query` (layout: `SeriesLabels`).
///
/// - **Exact statistics.** Single values are stored one sample each (VictoriaMetrics keeps every sample, even
///   several at one timestamp, as long as deduplication is off: `connect` checks). Values with counts and
///   distributions with small whole counts are expanded into those samples; larger ones, and statistic sets, go to
///   the companion series (`:plumb_count`, `:plumb_sum`, `:plumb_min`, `:plumb_max`, and `:plumb_bucket` for the
///   distribution), so `SampleCount`, `Sum`, `Minimum` and `Maximum` stay exact. Percentiles are exact where the
///   raw samples are kept and within the sketch's 1 % elsewhere, as on the embedded engine.
/// - **Acknowledged means searchable.** A write is answered after `/internal/force_flush` on every flush URL
///   (concurrent writes share one flush), so a read on any node sees it; VictoriaMetrics writes it to disk in the
///   background (README: what a crash of VictoriaMetrics can lose).
/// - **Standard resolution** (60 s) samples are stored at the start of their minute, as the embedded engine keeps
///   them.
public final class VictoriaMetricsStore: MetricStoring {
    public let settings: VictoriaMetricsSettings
    public let clock: @Sendable () -> Int64
    let client: VictoriaMetricsClient
    let flusher: FlushGroup
    /// The most labels VictoriaMetrics keeps on one series (`-maxLabelsPerTimeseries`); beyond it it would drop some.
    let maxLabels: Int
    /// The most labels VictoriaMetrics keeps on one series, as it reported at `connect`.
    public var maxLabelsPerSeries: Int { maxLabels }
    /// Seconds at the end of every range that the query API leaves out (`-search.latencyOffset`, 30 s by default; the
    /// `latency_offset` query argument that overrides it is ignored before VictoriaMetrics 1.80): periods that end in
    /// them are read from raw samples instead, so an alarm sees the newest samples.
    let queryLatency: Int64
    /// What this process last wrote to the catalog per series: the unit, and when (epoch seconds).
    private let catalog = Mutex<[SeriesKey: (unit: MetricUnit?, written: Int64)]>([:])

    /// Values with counts (and distributions) whose counts are whole and add up to at most this many are stored as
    /// that many raw samples: exact percentiles, at the cost of a sample each.
    static let expansionLimit = 1_000
    /// A series is written to the catalog again after this long, so a lookback finds every series still written.
    static let catalogRefresh: Int64 = 3_600
    /// Labels Plumb adds to a series' dimensions at most (`__name__`, namespace, metric, id, and bucket or unit).
    static let ownLabels = 5
    /// How many series one export asks for.
    static let exportBatch = 32

    init(
        settings: VictoriaMetricsSettings, clock: @escaping @Sendable () -> Int64, client: VictoriaMetricsClient,
        maxLabels: Int, queryLatency: Int64 = 30
    ) {
        self.queryLatency = queryLatency
        self.settings = settings
        self.clock = clock
        self.client = client
        self.maxLabels = maxLabels
        let flushURLs = settings.flushURLs
        // A flush is idempotent: one that fails is tried twice more before the write is refused (a write whose
        // import was taken but whose flush failed is answered 503, and a client that sends it again stores it twice).
        flusher = FlushGroup {
            for url in flushURLs {
                var attempt = 0
                while true {
                    attempt += 1
                    do {
                        let (status, body) = try await client.send(.GET, url + "/internal/force_flush")
                        guard status / 100 == 2 else {
                            throw VictoriaMetricsClient.failed(
                                url + "/internal/force_flush", status, String(buffer: body))
                        }
                        break
                    } catch {
                        guard attempt < 3 else { throw error }
                        try await Task.sleep(for: .milliseconds(100 * attempt))
                    }
                }
            }
        }
    }

    /// Connects to the nodes `settings` names and checks that they keep what Plumb writes: every node answers,
    /// deduplication is off (`-dedup.minScrapeInterval` unset: Plumb writes several samples per second to one
    /// series) and a series may carry the 30 dimensions CloudWatch allows plus Plumb's own labels.
    public static func connect(
        settings: VictoriaMetricsSettings,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        http: HTTPClient = VictoriaMetricsClient.sharedHTTP
    ) async throws -> VictoriaMetricsStore {
        let client = VictoriaMetricsClient(http: http, timeout: settings.timeout)
        var origins: [String] = []
        for url in [settings.insertURL, settings.selectURL] + settings.flushURLs {
            let origin = VictoriaMetricsSettings.origin(url)
            if !origins.contains(origin) { origins.append(origin) }
        }
        var maxLabels = Int.max
        var queryLatency: Int64 = 30
        for origin in origins {
            let flags: [String: String]
            do {
                let (status, body) = try await client.send(.GET, origin + "/metrics")
                guard status == 200 else {
                    throw VictoriaMetricsError("VictoriaMetrics at \(origin) answered \(status) to GET /metrics")
                }
                flags = Self.flags(String(buffer: body))
            } catch let error as MetricsError {
                throw VictoriaMetricsError(error.message)
            }
            if let dedup = flags["dedup.minScrapeInterval"], !["", "0", "0s", "0ms"].contains(dedup) {
                throw VictoriaMetricsError(
                    "VictoriaMetrics at \(origin) deduplicates samples (-dedup.minScrapeInterval=\(dedup)): Plumb "
                        + "stores every sample, several per second in one series, and would lose some; run it without "
                        + "that flag")
            }
            guard !flags.isEmpty else {
                throw VictoriaMetricsError(
                    "\(origin)/metrics shows no flag{…} lines: is this VictoriaMetrics? (Plumb reads its flags there)")
            }
            if let replication = flags["replicationFactor"].flatMap(Int.init), replication > 1 {
                throw VictoriaMetricsError(
                    "VictoriaMetrics at \(origin) replicates each sample \(replication) times (-replicationFactor): "
                        + "reading them back needs deduplication, which would merge Plumb's own samples; run it with "
                        + "-replicationFactor=1")
            }
            if let retention = flags["retentionPeriod"], let days = Self.retentionDays(retention),
                days < Self.minimumRetentionDays
            {
                throw VictoriaMetricsError(
                    "VictoriaMetrics at \(origin) keeps data \(retention) (-retentionPeriod): it would drop samples "
                        + "Plumb accepts (up to 14 days old); run it with -retentionPeriod=15d or more")
            }
            // Absent flag: VictoriaMetrics' own default.
            maxLabels = min(maxLabels, flags["maxLabelsPerTimeseries"].flatMap(Int.init) ?? 30)
            if origin == VictoriaMetricsSettings.origin(settings.selectURL),
                let offset = flags["search.latencyOffset"].flatMap(Self.seconds)
            {
                queryLatency = Int64(offset.rounded(.up))
            }
        }
        return VictoriaMetricsStore(
            settings: settings, clock: clock, client: client, maxLabels: maxLabels, queryLatency: queryLatency)
    }

    /// Samples Plumb accepts may be 14 days old (CloudWatch's limit); VictoriaMetrics drops older ones silently.
    static let minimumRetentionDays = 15.0

    /// `-retentionPeriod` in days: a bare number is months; `h`, `d`, `w`, `y` suffixes as VictoriaMetrics reads them.
    static func retentionDays(_ value: String) -> Double? {
        if let months = Double(value) { return months * 31 }
        guard let unit = value.last, let amount = Double(value.dropLast()) else { return nil }
        switch unit {
        case "h": return amount / 24
        case "d": return amount
        case "w": return amount * 7
        case "y": return amount * 365
        default: return nil
        }
    }

    /// Seconds in a Go duration as VictoriaMetrics prints its flags (`30s`, `1m0s`, `500ms`), or nil.
    static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let amount = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "h": total += amount * 3_600
            case "m": total += amount * 60
            case "s": total += amount
            case "ms": total += amount / 1_000
            case "us", "µs": total += amount / 1_000_000
            case "ns": total += amount / 1_000_000_000
            default: return nil
            }
        }
        return total
    }

    /// `flag{name="…", value="…"}` lines of a node's `/metrics`.
    static func flags(_ exposition: String) -> [String: String] {
        var flags: [String: String] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("flag{name=\"") {
            let rest = line.dropFirst("flag{name=\"".count)
            guard let nameEnd = rest.firstIndex(of: "\""),
                let valueStart = rest[nameEnd...].range(of: "value=\"")?.upperBound,
                let valueEnd = rest[valueStart...].firstIndex(of: "\"")
            else { continue }
            flags[String(rest[..<nameEnd])] = String(rest[valueStart..<valueEnd])
        }
        return flags
    }

    // MARK: Writes

    public func put(_ samples: [Sample]) async throws {
        guard !samples.isEmpty else { return }
        try await write(try importBody(samples), catalog: samples.map { ($0.series, $0.unit) })
    }

    /// The import lines of `samples` (see the type's comment for what goes where).
    func importBody(_ samples: [Sample]) throws -> ImportBody {
        var body = ImportBody()
        for sample in samples {
            try checkLabels(sample.series)
            let milliseconds = try Self.milliseconds(sample.timestamp, sample.resolution)
            switch sample.value {
            case .single(let value):
                body.add(sample.series, .value, milliseconds, value)
            case .values(let values, let counts):
                if let counts, !Self.expandable(counts) {
                    var aggregate = Aggregate()
                    for (value, count) in zip(values, counts) { aggregate.add(value, weight: count) }
                    body.addSummary(sample.series, milliseconds, aggregate)
                } else {
                    for (i, value) in values.enumerated() {
                        for _ in 0..<Int(counts?[i] ?? 1) { body.add(sample.series, .value, milliseconds, value) }
                    }
                }
            case .statistics(let count, let sum, let min, let max):
                body.add(sample.series, .count, milliseconds, count)
                body.add(sample.series, .sum, milliseconds, sum)
                body.add(sample.series, .min, milliseconds, min)
                body.add(sample.series, .max, milliseconds, max)
            case .distribution(let aggregate):
                if let exact = aggregate.exactValues, Self.expandable(exact.map(\.weight)) {
                    for (value, weight) in exact {
                        for _ in 0..<Int(weight) { body.add(sample.series, .value, milliseconds, value) }
                    }
                } else {
                    body.addSummary(sample.series, milliseconds, aggregate)
                }
            }
        }
        return body
    }

    /// A line-protocol batch goes straight to import lines: its points are grouped by (head, field), each
    /// series' key is built, checked and hashed once per request, not once per point.
    public func put(_ batch: LineProtocolBatch, resolution: StorageResolution) async throws {
        guard !batch.points.isEmpty else { return }
        var slots: [Int: Int] = [:]
        var series: [(key: SeriesKey, timestamps: [Int64], values: [Double])] = []
        for point in batch.points {
            let slot = Int(point.head) << 32 | Int(point.field)
            let index: Int
            if let known = slots[slot] {
                index = known
            } else {
                let head = batch.heads[Int(point.head)]
                let key = SeriesKey(
                    namespace: head.namespace, name: batch.fields[Int(point.field)], dimensions: head.dimensions)
                try checkLabels(key)
                index = series.count
                slots[slot] = index
                series.append((key, [], []))
            }
            series[index].timestamps.append(try Self.milliseconds(point.timestamp, resolution))
            series[index].values.append(point.value)
        }
        var body = ImportBody()
        for entry in series {
            body.addLine(
                SeriesLabels.labels(entry.key, part: .value), timestamps: entry.timestamps, values: entry.values)
        }
        try await write(body, catalog: series.map { ($0.key, nil) })
    }

    /// Where a sample is stored: its time in milliseconds, standard-resolution (60 s) samples at the start of their
    /// minute, as the embedded engine keeps them.
    static func milliseconds(_ timestamp: Int64, _ resolution: StorageResolution) throws -> Int64 {
        let seconds = resolution == .standard ? Checked.floorDivision(timestamp, 60) * 60 : timestamp
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { throw MetricsError.invalid("timestamp \(timestamp) is out of range") }
        return milliseconds
    }

    /// Whole positive counts that add up to at most `expansionLimit`.
    static func expandable(_ counts: [Double]) -> Bool {
        var total = 0.0
        for count in counts {
            guard count >= 1, count.rounded(.towardZero) == count else { return false }
            total += count
        }
        return total <= Double(expansionLimit)
    }

    /// A series with more labels than VictoriaMetrics keeps would lose some there: refused here, by name.
    func checkLabels(_ key: SeriesKey) throws {
        for dimension in key.dimensions
        where SeriesLabels.labelName(ofDimension: dimension.name).utf8.count > SeriesLabels.maxLabelNameBytes {
            throw MetricsError.invalid(
                "\(key.namespace) \(key.name): dimension name '\(dimension.name.prefix(40))…' is too long for "
                    + "VictoriaMetrics (a label name is at most \(SeriesLabels.maxLabelNameBytes) bytes, and a name "
                    + "outside [a-zA-Z0-9_] is stored as plumb_d_ and two hex digits a byte)")
        }
        guard key.dimensions.count + Self.ownLabels > maxLabels else { return }
        throw MetricsError.invalid(
            "\(key.namespace) \(key.name): \(key.dimensions.count) dimensions; VictoriaMetrics keeps at most "
                + "\(maxLabels) labels per series (-maxLabelsPerTimeseries), and Plumb adds \(Self.ownLabels): "
                + "raise that flag to \(key.dimensions.count + Self.ownLabels) or more")
    }

    /// Imports `body` with the catalog entries this process has not written lately, then flushes.
    func write(_ body: ImportBody, catalog entries: [(SeriesKey, MetricUnit?)]) async throws {
        var body = body
        let (now, written) = addCatalog(entries, to: &body)
        let (status, answer) = try await client.send(
            .POST, settings.insertURL + "/api/v1/import", body: body.bytes(), contentType: "application/json")
        guard status / 100 == 2 else {
            throw VictoriaMetricsClient.failed(settings.insertURL + "/api/v1/import", status, String(buffer: answer))
        }
        try await flusher.flush()
        markCatalog(written, now: now)
    }

    /// Adds the catalog entries of `entries` this process has not written lately (or not with this unit).
    func addCatalog(
        _ entries: [(SeriesKey, MetricUnit?)], to body: inout ImportBody
    ) -> (now: Int64, written: [SeriesKey: MetricUnit?]) {
        let now = clock()
        var written: [SeriesKey: MetricUnit?] = [:]
        // The unit a batch gives a series is the last one it names (as the embedded engine keeps it).
        var given: [SeriesKey: MetricUnit?] = [:]
        for (key, unit) in entries where unit != nil || given[key] == nil { given[key] = unit }
        catalog.withLock { known in
            for (key, unit) in given {
                if let last = known[key], last.unit == unit || unit == nil, now - last.written < Self.catalogRefresh {
                    continue
                }
                // A write without a unit keeps the one this process knows (`written` holds optional units).
                let kept: MetricUnit? = unit ?? known[key].flatMap { $0.unit }
                written[key] = .some(kept)
            }
        }
        for (key, unit) in written {
            body.addLine(
                SeriesLabels.labels(key, part: .catalog, unit: unit), timestamps: [now * 1_000], values: [Double(now)])
        }
        return (now, written)
    }

    /// Remembers catalog entries once their import is acknowledged.
    func markCatalog(_ written: [SeriesKey: MetricUnit?], now: Int64) {
        catalog.withLock { known in
            for (key, unit) in written { known[key] = (unit, now) }
        }
    }
}

/// A configuration that cannot work, found at start: the message names the node and what to change.
public struct VictoriaMetricsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
