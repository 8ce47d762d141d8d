import Foundation
import PlumbAPI

/// How the dashboard talks to the server (the CLI gives it its HTTP client; tests count the calls).
public protocol DashTransport: Sendable {
    /// Sends a request and returns the body of a 2xx answer; throws with a readable message otherwise.
    func send(_ method: String, _ path: String, body: [UInt8]?) async throws -> [UInt8]
}

/// Builds each refresh's requests: one batch metrics query for every widget of the page, the alarms when an
/// alarms widget is shown, and one log search per logs widget. Table rows and variable values come from the
/// metric listing, read at start and every tenth refresh.
public actor Fetcher {
    public let transport: any DashTransport
    public private(set) var dashboard: Dashboard
    private var tableRows: [String: [String]] = [:]
    private var refreshes = 0
    /// Requests sent, by kind (`query`, `alarms`, `logs`, `list`): the figure behind "one batch query per refresh".
    public private(set) var calls: [String: Int] = [:]

    public init(dashboard: Dashboard, transport: any DashTransport) {
        self.dashboard = dashboard
        self.transport = transport
    }

    func call(_ kind: String, _ method: String, _ path: String, body: [UInt8]? = nil) async throws -> [UInt8] {
        calls[kind, default: 0] += 1
        return try await transport.send(method, path, body: body)
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// Values of `dimension` among the series of `namespace` (and `metric`, when given).
    func dimensionValues(namespace: String, metric: String?, dimension: String) async throws -> [String] {
        var path = "/api/v1/metrics?namespace=\(Self.encode(namespace))"
        if let metric { path += "&name=\(Self.encode(metric))" }
        let body = try await call("list", "GET", path)
        let metrics = (try? JSONDecoder().decode(ListMetricsResponse.self, from: Data(body)))?.metrics ?? []
        return Set(metrics.compactMap { $0.dimensions[dimension] }).sorted()
    }

    /// Resolves variables whose values come from a metric's dimension (the first value is the default) and returns
    /// the dashboard re-read with them; `reload` parses the file again with the chosen values.
    public func resolveVariables(reload: @Sendable ([String: String]) throws -> Dashboard) async throws -> Dashboard {
        var chosen: [String: String] = [:]
        for v in dashboard.variables {
            guard let from = v.from else { continue }
            if v.value.isEmpty {
                let values = try await dimensionValues(
                    namespace: from.namespace, metric: from.metric, dimension: from.dimension)
                if let first = values.first { chosen[v.name] = first }
            }
        }
        if !chosen.isEmpty {
            let current = Dictionary(dashboard.variables.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            dashboard = try reload(current.merging(chosen) { $1 })
        }
        return dashboard
    }

    /// Everything page `page` shows for the window ending at `end` (epoch seconds).
    /// `only`: the keys of the widgets to fetch (those whose own refresh is due); nil fetches the whole page.
    public func fetch(page: Int, end: Int64, only: Set<String>? = nil) async -> DashData {
        var data = DashData(start: end - dashboard.range, end: end)
        var widgets = dashboard.widgets(page: page)
        var keys = widgets.indices.map { dashboard.key(page: page, index: $0) }
        if let only {
            let kept = keys.indices.filter { only.contains(keys[$0]) }
            widgets = kept.map { widgets[$0] }
            keys = kept.map { keys[$0] }
        }
        let shown = Array(zip(widgets, keys))
        refreshes += 1
        // Table rows: the dimension's values, at start and every tenth refresh.
        for (w, key) in shown where w.kind == .table && (tableRows[key] == nil || refreshes % 10 == 0) {
            do {
                tableRows[key] = try await dimensionValues(
                    namespace: w.namespace, metric: w.columns.first?.metric, dimension: w.dimension)
            } catch {
                data.problems.append("\(w.title): \(error)")
            }
        }
        await fetchMetrics(shown, into: &data)
        if widgets.contains(where: { $0.kind == .alarms }) { await fetchAlarms(into: &data) }
        for (w, key) in shown where w.kind == .logs { await fetchLogs(w, key: key, into: &data) }
        return data
    }

    /// One batch query for every widget's series, its results put where each widget looks.
    func fetchMetrics(_ shown: [(Dashboard.Widget, String)], into data: inout DashData) async {
        let batch = shown.flatMap { w, key in queries(w, key: key) }
        guard !batch.isEmpty else { return }
        do {
            let request = MetricDataRequest(
                queries: batch, start: "\(data.start)", end: "\(data.end)", period: dashboard.period)
            let body = try await call(
                "query", "POST", "/api/v1/metrics/query", body: Array(try JSONEncoder().encode(request)))
            let results = (try? JSONDecoder().decode(MetricDataResponse.self, from: Data(body)))?.results ?? []
            var byID: [String: DashData.Series] = [:]
            for r in results {
                byID[r.id] = DashData.Series(
                    label: r.label, timestamps: r.timestamps.map { Int64(TimeParsing.rfc3339($0) ?? 0) },
                    values: r.values)
            }
            for (w, key) in shown { place(byID, w, key: key, into: &data) }
        } catch {
            data.problems.append("metrics: \(error)")
        }
    }

    /// The queries of one widget, their ids prefixed with the widget's key.
    func queries(_ w: Dashboard.Widget, key: String) -> [MetricDataQuery] {
        switch w.kind {
        case .timeseries, .sparkline, .stat, .gauge, .bar:
            return w.queries.map { Self.prefixed($0, prefix: key) }
        case .table:
            return (tableRows[key] ?? []).prefix(200).enumerated().flatMap { r, row in
                w.columns.enumerated().map { c, column in
                    MetricDataQuery(
                        id: "\(key)_r\(r)_c\(c)",
                        source: .metric(
                            SeriesKey(namespace: w.namespace, name: column.metric, dimensions: [w.dimension: row]),
                            column.stat))
                }
            }
        case .heatmap:
            guard let m = w.metric else { return [] }
            return Self.heatmapPercentiles.map { p in
                MetricDataQuery(id: "\(key)_p\(Int(p))", source: .metric(m, .percentile(p)))
            }
        case .alarms, .logs, .text:
            return []
        }
    }

    /// Puts the results of one widget's queries where the widget looks: table cells, heatmap columns or series.
    func place(_ byID: [String: DashData.Series], _ w: Dashboard.Widget, key: String, into data: inout DashData) {
        switch w.kind {
        case .table:
            data.tables[key] = (tableRows[key] ?? []).prefix(200).enumerated().map { r, row in
                (
                    row,
                    w.columns.indices.map { c in
                        Self.summary(byID["\(key)_r\(r)_c\(c)"]?.values ?? [], w.columns[c].stat)
                    }
                )
            }
        case .heatmap:
            var columns: [Int64: [(Double, Double)]] = [:]
            for p in Self.heatmapPercentiles {
                guard let s = byID["\(key)_p\(Int(p))"] else { continue }
                for (t, v) in zip(s.timestamps, s.values) { columns[t, default: []].append((p, v)) }
            }
            data.heatmaps[key] = columns.keys.sorted().map { ($0, columns[$0]!) }
        default:
            data.series[key] = w.queries.filter(\.returnData).compactMap { byID["\(key)_\($0.id)"] }
        }
    }

    func fetchAlarms(into data: inout DashData) async {
        do {
            let body = try await call("alarms", "GET", "/api/v1/alarms")
            let list = (try? JSONDecoder().decode(AlarmListResponse.self, from: Data(body)))?.alarms ?? []
            data.alarms = list.map { a in
                DashData.Alarm(
                    name: a.name, state: a.state, reason: a.stateReason,
                    silenced: a.silence.map { "until \($0.until) by \($0.createdBy) (\($0.comment))" })
            }
        } catch {
            data.problems.append("alarms: \(error)")
        }
    }

    /// The newest 200 events of the window matching the widget's filter, oldest first.
    func fetchLogs(_ w: Dashboard.Widget, key: String, into data: inout DashData) async {
        do {
            var path =
                "/api/v1/logs/\(Self.encode(w.logGroup))?order=newest&limit=200&start=\(data.start)&end=\(data.end)"
            if !w.filter.isEmpty { path += "&filter=\(Self.encode(w.filter))" }
            let body = try await call("logs", "GET", path)
            let events = (try? JSONDecoder().decode(LogEventsResponse.self, from: Data(body)))?.events ?? []
            data.logs[key] = events.reversed().map { DashData.LogLine(timestamp: $0.timestamp, message: $0.message) }
        } catch {
            data.problems.append("\(w.title): \(error)")
        }
    }

    static let heatmapPercentiles: [Double] = [10, 25, 50, 75, 90, 99]

    /// A table cell: the window's total for Sum and SampleCount, the mean of Average, the extreme of Minimum and
    /// Maximum, and the highest period value of a percentile.
    static func summary(_ values: [Double], _ stat: Statistic) -> Double? {
        guard !values.isEmpty else { return nil }
        switch stat.description {
        case "Sum", "SampleCount": return values.reduce(0, +)
        case "Average": return values.reduce(0, +) / Double(values.count)
        case "Minimum": return values.min()
        default: return values.max()
        }
    }

    /// A widget's query with its id prefixed (`w3_rate`), and the ids inside an expression too; an expression
    /// without a label keeps its own text as the label.
    static func prefixed(_ q: MetricDataQuery, prefix: String) -> MetricDataQuery {
        var out = q
        out.id = "\(prefix)_\(q.id)"
        if case .expression(let e, let text) = q.source {
            var rewritten = text
            for id in e.references.sorted(by: { $0.count > $1.count }) {
                rewritten = Self.replaceIdentifier(id, with: "\(prefix)_\(id)", in: rewritten)
            }
            out.source = .expression(e.renamingReferences { "\(prefix)_\($0)" }, text: rewritten)
            out.label = q.label ?? text
        }
        return out
    }

    /// Replaces whole-word occurrences of `id`.
    static func replaceIdentifier(_ id: String, with new: String, in text: String) -> String {
        let chars = Array(text)
        let target = Array(id)
        var out = ""
        var i = 0
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        while i < chars.count {
            if i + target.count <= chars.count, Array(chars[i..<(i + target.count)]) == target,
                i == 0 || !isWord(chars[i - 1]), i + target.count == chars.count || !isWord(chars[i + target.count])
            {
                out += new
                i += target.count
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }
}
