import Foundation
import HTTPTypes
import Hummingbird
import PlumbAPI
import PlumbAlarms
import PlumbKit
import PlumbMetrics
import PlumbOpen

/// The Prometheus HTTP query API over Plumb's metrics, so Grafana's Prometheus data source, `promtool query` and
/// every PromQL habit work on them: `query`, `query_range`, `series`, `labels`, `label/{name}/values`, `metadata`,
/// `status/buildinfo`, and Plumb's alarms as `rules` and `alerts`.
///
/// Answers use Prometheus' envelope and codes: 400 `bad_data` for a malformed request or query, 422 `execution` for a
/// query that cannot be evaluated (many-to-many matching, over the sample limit), 503 `timeout`/`canceled`, 500
/// `internal` when the store fails. GET takes the query string; POST a form body, as Grafana sends it.
struct PromQLRoutes {
    let engine: PromQLEngine
    let source: MetricStorePromQLSource
    let alarms: AlarmEngine
    let clock: @Sendable () -> Int64
    /// The largest form body.
    static let maxBodyBytes = 1_048_576

    init(store: any MetricStoring, alarms: AlarmEngine, settings: PromQLSettings) {
        source = MetricStorePromQLSource(store: store)
        var engine = PromQLEngine(source: source)
        engine.maxSamples = settings.maxSamples
        engine.timeout = .seconds(settings.timeoutSeconds)
        engine.lookback = Int64(settings.lookbackSeconds) * 1_000
        self.engine = engine
        self.alarms = alarms
        clock = store.clock
    }

    func register(api: RouterGroup<PlumbRequestContext>) {
        for (path, handler) in [
            ("query", query), ("query_range", queryRange), ("series", series), ("labels", labels),
            ("label/{name}/values", labelValues),
        ] as [(RouterPath, @Sendable (Request, PlumbRequestContext) async throws -> Response)] {
            api.get(path, use: handler)
            api.post(path, use: handler)
        }
        api.get("metadata", use: metadata)
        api.get("status/buildinfo", use: buildInfo)
        api.get("rules", use: rules)
        api.get("alerts", use: alerts)
    }

    // MARK: Parameters

    /// The request's parameters: the query string, then a form body's (POST), each name with every value it has.
    func parameters(_ request: Request) async throws(PromQLError) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for (name, value) in FormQuery.pairs(request.uri.query) { out[name, default: []].append(value) }
        if request.method == .post {
            let body: [UInt8]
            do {
                body = try await request.collectBody(limit: Self.maxBodyBytes)
            } catch {
                throw PromQLError(.badData, "the form body is larger than \(Self.maxBodyBytes) bytes")
            }
            let type = request.headers[.contentType]?.lowercased() ?? ""
            if !body.isEmpty {
                guard type.hasPrefix("application/x-www-form-urlencoded") else {
                    throw PromQLError(
                        .badData, "a POST body must be application/x-www-form-urlencoded (got '\(type)')")
                }
                for (name, value) in FormQuery.pairs(String(decoding: body, as: UTF8.self)) {
                    out[name, default: []].append(value)
                }
            }
        }
        return out
    }

    func time(_ p: [String: [String]], _ name: String, default value: Int64?) throws(PromQLError) -> Int64? {
        guard let text = p[name]?.last, !text.isEmpty else { return value }
        guard let t = PromQLTime.parse(text) else {
            throw PromQLError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
        }
        return t
    }

    func duration(_ p: [String: [String]], _ name: String) throws(PromQLError) -> Int64? {
        guard let text = p[name]?.last, !text.isEmpty else { return nil }
        guard let d = PromQLTime.duration(text) else {
            throw PromQLError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid duration")
        }
        return d
    }

    /// The engine with the request's `timeout` when it asks for less than the configured one.
    func engine(for p: [String: [String]]) throws(PromQLError) -> PromQLEngine {
        var engine = engine
        if let timeout = try duration(p, "timeout"), timeout > 0, .milliseconds(timeout) < engine.timeout {
            engine.timeout = .milliseconds(timeout)
        }
        return engine
    }

    func queryText(_ p: [String: [String]]) throws(PromQLError) -> String {
        guard let query = p["query"]?.last, !query.isEmpty else {
            throw PromQLError(
                .badData, "invalid parameter \"query\": unknown position: parse error: no expression found in input")
        }
        // Checked here so that a refusal names the parameter, as Prometheus' own does.
        do {
            _ = try PromQLParser.parse(query)
        } catch {
            throw PromQLError(.badData, "invalid parameter \"query\": \(error.description)")
        }
        return query
    }

    /// `match[]` as selectors; at least one when `required`.
    func matchers(_ p: [String: [String]], required: Bool) throws(PromQLError) -> [[LabelMatcher]]? {
        guard let selectors = p["match[]"], !selectors.isEmpty else {
            if required { throw PromQLError(.badData, "no match[] parameter provided") }
            return nil
        }
        var out: [[LabelMatcher]] = []
        for text in selectors {
            let expr: PromQLExpr
            do {
                expr = try PromQLParser.parse(text)
            } catch {
                throw PromQLError(.badData, "invalid parameter \"match[]\": \(error.description)")
            }
            guard case .vector(let selector) = expr else {
                throw PromQLError(.badData, "invalid parameter \"match[]\": '\(text)' is not a series selector")
            }
            var m = selector.matchers
            if let name = selector.name { m.insert(LabelMatcher(PromLabels.metricName, .equal, name), at: 0) }
            out.append(m)
        }
        return out
    }

    /// The label sets `match[]` selects (all series without it), each once.
    func selected(_ p: [String: [String]], required: Bool) async throws(PromQLError) -> [PromLabels] {
        let selectors = try matchers(p, required: required) ?? [[]]
        var seen = Set<PromLabels>()
        var out: [PromLabels] = []
        for m in selectors {
            let found: [PromLabels]
            do {
                found = try await source.series(matching: m)
            } catch let error as PromQLError {
                throw error
            } catch {
                throw PromQLError(.internal, "reading the store: \(error)")
            }
            for labels in found where seen.insert(labels).inserted { out.append(labels) }
        }
        return out
    }

    // MARK: Handlers

    /// Runs `body`, answering its value or Prometheus' error envelope. A refusal of a POST whose parameters came in
    /// the form body says so.
    func answer(_ request: Request, _ body: () async throws(PromQLError) -> [UInt8]) async -> Response {
        do {
            return Self.json(.ok, try await body())
        } catch {
            var error = error
            if error.kind == .badData, request.method == .post { error.message += " (parameters of the form body)" }
            return Self.json(HTTPResponse.Status(code: error.status), PromQLJSON.error(error))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    @Sendable func query(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () async throws(PromQLError) -> [UInt8] in
            let p = try await parameters(request)
            let text = try queryText(p)
            let at = try time(p, "time", default: clock() * 1_000)!
            return PromQLJSON.success(try await engine(for: p).instant(text, at: at))
        }
    }

    @Sendable func queryRange(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () async throws(PromQLError) -> [UInt8] in
            let p = try await parameters(request)
            let text = try queryText(p)
            guard let start = try time(p, "start", default: nil) else {
                throw PromQLError(.badData, "invalid parameter \"start\": cannot parse \"\" to a valid timestamp")
            }
            guard let end = try time(p, "end", default: nil) else {
                throw PromQLError(.badData, "invalid parameter \"end\": cannot parse \"\" to a valid timestamp")
            }
            guard let step = try duration(p, "step") else {
                throw PromQLError(.badData, "invalid parameter \"step\": cannot parse \"\" to a valid duration")
            }
            return PromQLJSON.success(try await engine(for: p).range(text, start: start, end: end, step: step))
        }
    }

    @Sendable func series(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () async throws(PromQLError) -> [UInt8] in
            let p = try await parameters(request)
            _ = try time(p, "start", default: nil)
            _ = try time(p, "end", default: nil)
            return PromQLJSON.success(labelSets: try await selected(p, required: true).sorted())
        }
    }

    @Sendable func labels(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () async throws(PromQLError) -> [UInt8] in
            let p = try await parameters(request)
            _ = try time(p, "start", default: nil)
            _ = try time(p, "end", default: nil)
            var names = Set<String>()
            for labels in try await selected(p, required: false) { names.formUnion(labels.names) }
            return PromQLJSON.success(strings: names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }

    @Sendable func labelValues(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        return await answer(request) { () async throws(PromQLError) -> [UInt8] in
            guard PromLabels.isLabelName(name) else {
                throw PromQLError(.badData, "invalid label name: \"\(name)\"")
            }
            let p = try await parameters(request)
            _ = try time(p, "start", default: nil)
            _ = try time(p, "end", default: nil)
            var values = Set<String>()
            for labels in try await selected(p, required: false) {
                let v = labels.get(name)
                if !v.isEmpty { values.insert(v) }
            }
            return PromQLJSON.success(strings: values.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
    }

    /// Metric metadata as Prometheus keeps it from scrapes: Plumb stores no metric types, so a type is inferred only
    /// from Prometheus' naming conventions (`_total` a counter, `_bucket` a histogram), `unknown` otherwise; the unit
    /// is Plumb's unit of the series.
    @Sendable func metadata(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () async throws(PromQLError) -> [UInt8] in
            let p = FormQuery.parse(request.uri.query)
            let wanted = p["metric"].flatMap { $0.isEmpty ? nil : $0 }
            var limit = -1
            if let text = p["limit"], !text.isEmpty {
                guard let n = Int(text) else {
                    throw PromQLError(.badData, "invalid parameter \"limit\": cannot parse \"\(text)\" to an integer")
                }
                limit = n
            }
            let infos: [SeriesInfo]
            do {
                infos = try await source.store.listMetrics()
            } catch {
                throw PromQLError(.internal, "reading the store: \(error)")
            }
            var entries: [String: MetadataEntry] = [:]
            for info in infos {
                let name = PromQLNames.metricName(info.key)
                if let wanted, wanted != name { continue }
                if entries[name] != nil { continue }
                if limit >= 0 && entries.count >= limit { break }
                let type = name.hasSuffix("_total") ? "counter" : (name.hasSuffix("_bucket") ? "histogram" : "unknown")
                entries[name] = MetadataEntry(
                    type: type, help: "\(info.key.namespace) \(info.key.name)", unit: info.unit?.rawValue ?? "")
            }
            return try Self.encode(Envelope(data: entries.mapValues { [$0] }))
        }
    }

    struct MetadataEntry: Encodable {
        var type: String
        var help: String
        var unit: String
    }

    struct Envelope<T: Encodable>: Encodable {
        var status = "success"
        var data: T
    }

    static func encode(_ value: some Encodable) throws(PromQLError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw PromQLError(.internal, "encoding the answer: \(error)")
        }
    }

    struct BuildInfo: Encodable {
        /// The Prometheus release whose API and PromQL Plumb answers as; Grafana picks its requests by it.
        var version = "2.42.0"
        var revision = "plumb-\(PlumbVersion.current)"
        var branch = "plumb"
        var buildUser = "plumb"
        var buildDate = ""
        var goVersion = "none (Plumb \(PlumbVersion.current), Swift)"
    }

    @Sendable func buildInfo(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        await answer(request) { () throws(PromQLError) -> [UInt8] in try Self.encode(Envelope(data: BuildInfo())) }
    }
}
