import PlumbAPI
import Foundation
import HTTPTypes
import Hummingbird
import PlumbMetrics
import PlumbStore

/// `POST /api/v1/metrics`, `POST /write`, `GET /api/v1/metrics`, `GET /api/v1/metrics/statistics`,
/// `POST /api/v1/metrics/query` (GetMetricData with metric math).
struct MetricsRoutes {
    let store: MetricStore
    let limits: IngestLimits
    let lineProtocolResolution: StorageResolution

    func register(api: RouterGroup<PlumbRequestContext>, write: RouterGroup<PlumbRequestContext>) {
        let decoder = PutMetricDataDecoder(limits: limits)
        let parser = LineProtocolParser(limits: limits)
        api.post("metrics") { request, context -> Response in
            let body = try await request.collectBody(limit: limits.maxJSONBodyBytes)
            let samples = try decoder.decode(body, now: store.clock())
            if let reserved = samples.first(where: { PlatformNames.isPlatformNamespace($0.series.namespace) }) {
                try PlatformNames.requireAdmin(context.caller, "namespace '\(reserved.series.namespace)'")
            }
            try await store.put(samples)
            return Response(status: .noContent)
        }
        write.post("write") { request, context -> Response in
            let query = request.queryDictionary
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
            var response = Response(status: .noContent)
            if batch.skippedStringFields > 0 {
                response.headers[HTTPField.Name("X-Plumb-Skipped-String-Fields")!] = String(batch.skippedStringFields)
            }
            return response
        }
        api.get("metrics") { request, _ -> Response in
            let query = request.queryDictionary
            let metrics = store.listMetrics(namespace: query["namespace"], name: query["name"]).map { info in
                MetricDescription(namespace: info.key.namespace, name: info.key.name, dimensions: info.key.dimensionDictionary, unit: info.unit?.rawValue)
            }
            return try .json(["metrics": metrics])
        }
        api.post("metrics/query") { request, _ -> Response in
            let body = try await request.collectBody(limit: limits.maxJSONBodyBytes)
            guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
                throw APIError("the body must be a JSON object {\"queries\": [...], \"start\", \"end\", \"period\"}")
            }
            let now = Double(store.clock())
            func time(_ key: String, default value: Double) throws -> Int64 {
                guard let raw = object[key] else { return Int64(value) }
                let text = (raw as? String) ?? (raw as? NSNumber).map { "\($0.doubleValue)" } ?? ""
                guard let t = TimeParsing.querySeconds(text, now: now) else {
                    throw APIError("\(key) '\(text.prefix(64))' must be \(TimeParsing.queryTimeForms)")
                }
                return t
            }
            let start = try time("start", default: now - 3_600)
            let end = try time("end", default: now + 1)
            var period: Int64 = 60
            if let raw = object["period"] {
                guard let number = raw as? NSNumber, !(raw is Bool), let whole = Checked.int64(number.doubleValue),
                    Double(whole) == number.doubleValue
                else { throw APIError("period must be a whole number of seconds") }
                period = whole
            }
            let queries = try MetricData.decodeQueries(object["queries"], at: "queries")
            let results = try await store.metricData(queries, start: start, end: end, period: period)
            return try .json(MetricDataResponse(results: results.map {
                MetricDataResponse.Result(id: $0.id, label: $0.label, timestamps: $0.timestamps.map(TimeParsing.format), values: $0.values)
            }))
        }
        api.get("metrics/statistics") { request, _ -> Response in
            let query = try StatisticsRequest(request.queryDictionary, now: Double(store.clock()))
            let datapoints = try await store.statistics(query.query)
            let unit = store.seriesInfo(query.query.series)?.unit?.rawValue ?? "None"
            let json = datapoints.map { point -> [String: JSONNumberOrString] in
                var out: [String: JSONNumberOrString] = ["timestamp": .string(TimeParsing.format(point.timestamp))]
                out["SampleCount"] = .number(point.aggregate.count)
                for (statistic, value) in point.values { out[statistic.description] = .number(value) }
                return out
            }
            return try .json(StatisticsResponse(datapoints: json, unit: unit, label: query.query.series.name))
        }
    }
}

struct MetricDataResponse: Encodable {
    struct Result: Encodable {
        let id: String
        let label: String
        let timestamps: [String]
        let values: [Double]
    }
    let results: [Result]
}

struct MetricDescription: Encodable {
    let namespace: String
    let name: String
    let dimensions: [String: String]
    let unit: String?
}

struct StatisticsResponse: Encodable {
    let datapoints: [[String: JSONNumberOrString]]
    let unit: String
    let label: String
}

enum JSONNumberOrString: Encodable {
    case number(Double)
    case string(String)

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        }
    }
}

/// The query parameters of `GET /api/v1/metrics/statistics`, checked one by one.
struct StatisticsRequest {
    let query: StatisticsQuery

    init(_ q: [String: String], now: Double) throws {
        guard let namespace = q["namespace"], !namespace.isEmpty else { throw APIError(code: "MissingParameter", "'namespace' is required") }
        guard let name = q["name"], !name.isEmpty else { throw APIError(code: "MissingParameter", "'name' is required") }
        var dimensions: [PlumbAPI.Dimension] = []
        if let text = q["dimensions"], !text.isEmpty {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else { throw APIError("dimensions must be K=V,K2=V2 (got '\(pair)')") }
                dimensions.append(PlumbAPI.Dimension(name: String(parts[0]), value: String(parts[1])))
            }
        }
        let statisticsText = q["statistics"] ?? "Average"
        let statistics = try statisticsText.split(separator: ",").map { text -> Statistic in
            guard let s = Statistic(String(text)) else {
                throw APIError("statistics: unknown statistic '\(Checked.shown(text))' (SampleCount, Sum, Average, Minimum, Maximum or pNN.NN)")
            }
            return s
        }
        var period: Int64 = 60
        if let p = q["period"] {
            guard let parsed = Int64(p) else { throw APIError("period '\(p)' must be a whole number of seconds") }
            period = parsed
        }
        func time(_ key: String, default value: Double) throws -> Int64 {
            guard let text = q[key] else { return Int64(value) }
            guard let t = TimeParsing.querySeconds(text, now: now) else {
                throw APIError("\(key) '\(text.prefix(64))' must be \(TimeParsing.queryTimeForms)")
            }
            return t
        }
        let end = try time("end", default: now + 1)
        let start = try time("start", default: now - 3_600)
        query = StatisticsQuery(
            series: SeriesKey(namespace: namespace, name: name, dimensions: dimensions), period: period,
            start: start, end: end, statistics: statistics)
        try query.validate()
    }
}
