import PlumbAPI
import Foundation
import PlumbMetrics

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
        let metrics = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["metrics"] as? [[String: Any]] ?? []
        return Set(metrics.compactMap { ($0["dimensions"] as? [String: Any])?[dimension] as? String }).sorted()
    }

    /// Resolves variables whose values come from a metric's dimension (the first value is the default) and returns
    /// the dashboard re-read with them; `reload` parses the file again with the chosen values.
    public func resolveVariables(reload: @Sendable ([String: String]) throws -> Dashboard) async throws -> Dashboard {
        var chosen: [String: String] = [:]
        for v in dashboard.variables {
            guard let from = v.from else { continue }
            if v.value.isEmpty {
                let values = try await dimensionValues(namespace: from.namespace, metric: from.metric, dimension: from.dimension)
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
        let start = end - dashboard.range
        var data = DashData(start: start, end: end)
        var widgets = dashboard.widgets(page: page)
        var keys = widgets.indices.map { dashboard.key(page: page, index: $0) }
        if let only {
            let kept = keys.indices.filter { only.contains(keys[$0]) }
            widgets = kept.map { widgets[$0] }
            keys = kept.map { keys[$0] }
        }
        refreshes += 1
        // Table rows: the dimension's values, at start and every tenth refresh.
        for (w, key) in zip(widgets, keys) where w.kind == .table && (tableRows[key] == nil || refreshes % 10 == 0) {
            do {
                tableRows[key] = try await dimensionValues(namespace: w.namespace, metric: w.columns.first?.metric, dimension: w.dimension)
            } catch {
                data.problems.append("\(w.title): \(error)")
            }
        }
        // One batch query for every widget's series.
        var queries: [[String: Any]] = []
        for (w, key) in zip(widgets, keys) {
            switch w.kind {
            case .timeseries, .sparkline, .stat, .gauge, .bar:
                for q in w.queries { queries.append(Self.json(q, prefix: key)) }
            case .table:
                for (r, row) in (tableRows[key] ?? []).prefix(200).enumerated() {
                    for (c, column) in w.columns.enumerated() {
                        queries.append([
                            "id": "\(key)_r\(r)_c\(c)", "stat": column.stat.description,
                            "metric": ["namespace": w.namespace, "name": column.metric, "dimensions": [w.dimension: row]],
                        ])
                    }
                }
            case .heatmap:
                guard let m = w.metric else { continue }
                for p in Self.heatmapPercentiles {
                    queries.append([
                        "id": "\(key)_p\(Int(p))", "stat": "p\(Int(p))",
                        "metric": ["namespace": m.namespace, "name": m.name, "dimensions": m.dimensionDictionary],
                    ])
                }
            case .alarms, .logs, .text: break
            }
        }
        if !queries.isEmpty {
            do {
                let request: [String: Any] = ["start": "\(start)", "end": "\(end)", "period": dashboard.period, "queries": queries]
                let body = try await call("query", "POST", "/api/v1/metrics/query", body: Array(try JSONSerialization.data(withJSONObject: request)))
                let results = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["results"] as? [[String: Any]] ?? []
                var byID: [String: DashData.Series] = [:]
                for r in results {
                    guard let id = r["id"] as? String else { continue }
                    let times = (r["timestamps"] as? [String] ?? []).map { Int64(TimeParsing.rfc3339($0) ?? 0) }
                    let values = (r["values"] as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue ?? .nan }
                    byID[id] = DashData.Series(label: r["label"] as? String ?? id, timestamps: times, values: values)
                }
                for (w, key) in zip(widgets, keys) {
                    switch w.kind {
                    case .table:
                        data.tables[key] = (tableRows[key] ?? []).prefix(200).enumerated().map { r, row in
                            (row, w.columns.indices.map { c in Self.summary(byID["\(key)_r\(r)_c\(c)"]?.values ?? [], w.columns[c].stat) })
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
            } catch {
                data.problems.append("metrics: \(error)")
            }
        }
        if widgets.contains(where: { $0.kind == .alarms }) {
            do {
                let body = try await call("alarms", "GET", "/api/v1/alarms")
                let list = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["alarms"] as? [[String: Any]] ?? []
                data.alarms = list.map { a in
                    let silenced = (a["silence"] as? [String: Any]).map { s in
                        "until \(s["until"] as? String ?? "?") by \(s["createdBy"] as? String ?? "?") (\(s["comment"] as? String ?? ""))"
                    }
                    return DashData.Alarm(
                        name: a["name"] as? String ?? "", state: a["state"] as? String ?? "", reason: a["stateReason"] as? String ?? "",
                        silenced: silenced)
                }
            } catch {
                data.problems.append("alarms: \(error)")
            }
        }
        for (w, key) in zip(widgets, keys) where w.kind == .logs {
            do {
                var path = "/api/v1/logs/\(Self.encode(w.logGroup))?order=newest&limit=200&start=\(start)&end=\(end)"
                if !w.filter.isEmpty { path += "&filter=\(Self.encode(w.filter))" }
                let body = try await call("logs", "GET", path)
                let events = ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any])?["events"] as? [[String: Any]] ?? []
                data.logs[key] = events.reversed().map {
                    DashData.LogLine(timestamp: ($0["timestamp"] as? NSNumber)?.int64Value ?? 0, message: $0["message"] as? String ?? "")
                }
            } catch {
                data.problems.append("\(w.title): \(error)")
            }
        }
        return data
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

    static func json(_ q: MetricDataQuery, prefix: String) -> [String: Any] {
        var out: [String: Any] = ["id": "\(prefix)_\(q.id)", "return": q.returnData]
        if let label = q.label { out["label"] = label }
        switch q.source {
        case .metric(let series, let stat):
            out["metric"] = ["namespace": series.namespace, "name": series.name, "dimensions": series.dimensionDictionary]
            out["stat"] = stat.description
        case .expression(let e, let text):
            // Ids inside the expression get the widget's prefix too.
            var rewritten = text
            for id in e.references.sorted(by: { $0.count > $1.count }) {
                rewritten = Self.replaceIdentifier(id, with: "\(prefix)_\(id)", in: rewritten)
            }
            out["expression"] = rewritten
            if q.label == nil { out["label"] = text }
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
                i == 0 || !isWord(chars[i - 1]), i + target.count == chars.count || !isWord(chars[i + target.count]) {
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
