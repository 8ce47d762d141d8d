import Foundation
import HTTPTypes
import Hummingbird
import PlumbAPI
import PlumbMetrics
import PlumbOpen
import PlumbStore

/// The metrics API as a controller: `POST /api/v1/metrics` (PutMetricData), `POST /write` (InfluxDB line
/// protocol), `GET /api/v1/metrics` (ListMetrics), `POST /api/v1/metrics/query` (GetMetricData with metric math) and
/// `GET /api/v1/metrics/statistics` (GetMetricStatistics).
struct MetricsRoutes {
    let store: any MetricStoring
    let limits: IngestLimits
    let lineProtocolResolution: StorageResolution
    /// PutMetricData's validating decoder (the ingest hot path: it walks the JSON by hand, see `PutMetricDataRequest`).
    let decoder: PutMetricDataDecoder
    let parser: LineProtocolParser
    let remoteWrite: RemoteWriteDecoder

    init(store: any MetricStoring, limits: IngestLimits, lineProtocolResolution: StorageResolution) {
        self.store = store
        self.limits = limits
        self.lineProtocolResolution = lineProtocolResolution
        decoder = PutMetricDataDecoder(limits: limits)
        parser = LineProtocolParser(limits: limits)
        remoteWrite = RemoteWriteDecoder(limits: limits, maxDecompressedBytes: limits.maxLineProtocolBodyBytes)
    }

    func register(api: RouterGroup<PlumbRequestContext>, write: RouterGroup<PlumbRequestContext>) {
        api.post("metrics", use: put)
        write.post("write", use: self.write)
        api.post("write", use: remoteWrite)
        api.get("metrics", use: list)
        api.post("metrics/query", use: query)
        api.get("metrics/statistics", use: statistics)
    }

    /// Stores a whole batch or nothing; a platform namespace (`Plumb/…`) is the admin's.
    @Sendable func put(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.collectBody(limit: limits.maxJSONBodyBytes)
        let samples = try decoder.decode(body, now: store.clock())
        if let reserved = samples.first(where: { PlatformNames.isPlatformNamespace($0.series.namespace) }) {
            try PlatformNames.requireAdmin(context.caller, "namespace '\(reserved.series.namespace)'")
        }
        try await store.put(samples)
        UsageCounters.metricIngest(samples: samples.count)
        return Response(status: .noContent)
    }

    /// InfluxDB line protocol (`?precision=ns|us|ms|s`, `?resolution=1|60`); string fields are skipped and counted
    /// in `X-Plumb-Skipped-String-Fields`.
    @Sendable func write(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let (precision, resolution) = try lineProtocolOptions(request.queryDictionary)
        let body = try await request.collectBody(limit: limits.maxLineProtocolBodyBytes)
        // An empty write is a client bug (InfluxDB answers it with 204; a silent success hides the bug).
        guard body.contains(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            throw APIError(status: 400, code: "EmptyBody", "empty body: send at least one line of line protocol")
        }
        let batch = try parser.parse(body, precision: precision, now: store.clock())
        if let reserved = batch.heads.first(where: { PlatformNames.isPlatformNamespace($0.namespace) }) {
            try PlatformNames.requireAdmin(context.caller, "namespace '\(reserved.namespace)'")
        }
        try await store.put(batch, resolution: resolution)
        UsageCounters.metricIngest(samples: batch.points.count)
        var response = Response(status: .noContent)
        if batch.skippedStringFields > 0 {
            response.headers[HTTPField.Name("X-Plumb-Skipped-String-Fields")!] = String(batch.skippedStringFields)
        }
        return response
    }

    /// Prometheus remote write 1.0 (snappy-compressed protobuf `WriteRequest`), named by `PrometheusNames`; samples
    /// no series can hold (staleness markers, NaN, ±Inf) are skipped and counted in `X-Plumb-Skipped-Samples`.
    @Sendable func remoteWrite(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.collectBody(limit: limits.maxLineProtocolBodyBytes)
        let batch = try remoteWrite.decode(
            body, contentEncoding: request.headers[.contentEncoding], now: store.clock(),
            resolution: lineProtocolResolution)
        if !batch.samples.isEmpty { try await store.put(batch.samples) }
        UsageCounters.metricIngest(samples: batch.samples.count)
        var response = Response(status: .noContent)
        if batch.skipped > 0 {
            response.headers[HTTPField.Name("X-Plumb-Skipped-Samples")!] = String(batch.skipped)
        }
        return response
    }

    func lineProtocolOptions(_ query: [String: String]) throws -> (LineProtocolPrecision, StorageResolution) {
        var precision = LineProtocolPrecision.ns
        if let p = query["precision"] {
            guard let parsed = LineProtocolPrecision(rawValue: p) else {
                throw APIError("precision '\(p)' must be ns, us, ms or s")
            }
            precision = parsed
        }
        var resolution = lineProtocolResolution
        if let r = query["resolution"] {
            guard let parsed = Int(r).flatMap(StorageResolution.init(rawValue:)) else {
                throw APIError("resolution '\(r)' must be 1 or 60")
            }
            resolution = parsed
        }
        return (precision, resolution)
    }

    /// The series that exist, filtered by `namespace` and `name`.
    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let query = request.queryDictionary
        let metrics = try await store.listMetrics(namespace: query["namespace"], name: query["name"]).map(
            MetricDescription.init)
        return try .json(ListMetricsResponse(metrics: metrics))
    }

    /// GetMetricData: every metric query read in one transaction, then the expressions.
    @Sendable func query(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let body = try await request.collectBody(limit: limits.maxJSONBodyBytes)
        let now = Double(store.clock())
        let query = try MetricDataRequest.decode(body, now: now)
        let (start, end) = try query.window(now: now)
        let results = try await store.metricData(query.queries, start: start, end: end, period: query.period ?? 60)
        // The periods are shared by every result: each time is formatted once, found by its place on the grid.
        let period = query.period ?? 60
        let bytes = MetricDataResponse.jsonBytes(
            results, first: Checked.floorDivision(start, period) * period, period: period)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// GetMetricStatistics: one series, its statistics per period.
    @Sendable func statistics(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let now = Double(store.clock())
        let query = try StatisticsQuery(try StatisticsRequest(query: request.queryDictionary, now: now), now: now)
        let datapoints = try await store.statistics(query)
        let unit = try await store.seriesInfo(query.series)?.unit?.rawValue ?? "None"
        return try .json(
            StatisticsResponse(
                datapoints: datapoints.map(StatisticsDatapoint.init), unit: unit, label: query.series.name))
    }
}
