import PlumbAPI

/// The metric store as everything but the composition root sees it: ingest, the catalog of series, and period reads.
///
/// Routes, alarms, metric math, the swift-metrics reporter and the dashboards' queries take this protocol, never a
/// backend; SQL lives only in the embedded SQLite backend (`MetricStore`). Every backend passes the same conformance
/// suite (`MetricStoreConformanceTests`), so they agree on statistics, percentiles, missing data, limits and errors.
///
/// Times are epoch seconds; a period read covers `[start, end)` and keys each period by its epoch-aligned start.
public protocol MetricStoring: Sendable {
    /// The store's "now" (epoch seconds): what ingest compares timestamps with.
    var clock: @Sendable () -> Int64 { get }

    /// Stores accepted samples; returns once they are durable (what `durability` promises).
    func put(_ samples: [Sample]) async throws
    /// Stores a parsed line-protocol batch at `resolution`, as `put(_:)` does.
    func put(_ batch: LineProtocolBatch, resolution: StorageResolution) async throws

    /// Every series, optionally only those of a namespace and/or a metric name.
    func listMetrics(namespace: String?, name: String?) async throws -> [SeriesInfo]
    /// Every series, in no particular order: for readers that match or sort themselves (PromQL matches the whole
    /// catalog on every query). The default is `listMetrics()`.
    func allSeries() async throws -> [SeriesInfo]
    /// One series' catalog entry, nil when it was never written.
    func seriesInfo(_ key: SeriesKey) async throws -> SeriesInfo?

    /// Per-period aggregates for many (series, period, range) reads at once, consistent with each other; periods
    /// without data are absent. Alarm evaluation reads thousands of short ranges per tick through this.
    func aggregates(_ requests: [AggregateRequest]) async throws -> [[Int64: Aggregate]]
    /// The same reads as `aggregates`, each series' periods oldest first (what metric data and statistics answer
    /// with). A backend that reads in order anyway implements it to skip the dictionary.
    func periodSeries(_ requests: [AggregateRequest]) async throws -> [PeriodSeries]
}

extension MetricStoring {
    public func listMetrics() async throws -> [SeriesInfo] { try await listMetrics(namespace: nil, name: nil) }

    public func allSeries() async throws -> [SeriesInfo] { try await listMetrics(namespace: nil, name: nil) }

    public func periodSeries(_ requests: [AggregateRequest]) async throws -> [PeriodSeries] {
        try await aggregates(requests).map(PeriodSeries.init)
    }
}
