import Foundation
import PlumbAPI
import Yams

/// Reads and validates dashboard files, reporting every problem with its file, line and field.
public enum DashboardParser {
    /// Loads `dashboards/NAME.yaml` (or a path) with `overrides` for variables (`--var k=v`).
    public static func load(path: String, overrides: [String: String] = [:]) throws -> Dashboard {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DashboardErrors(errors: [
                DashboardError(file: path, line: 0, field: "", message: "cannot read the file")
            ])
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(text, file: path, name: name, overrides: overrides)
    }

    public static func parse(
        _ text: String, file: String, name: String, overrides: [String: String] = [:]
    ) throws -> Dashboard {
        let reader = Reader(file: file)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw DashboardErrors(errors: [
                    DashboardError(file: file, line: 1, field: "", message: "the file is empty")
                ])
            }
            root = node
        } catch let e as DashboardErrors {
            throw e
        } catch {
            throw DashboardErrors(errors: [
                DashboardError(file: file, line: 0, field: "", message: "not valid YAML: \(error)")
            ])
        }
        let dashboard = reader.dashboard(root, name: name, overrides: overrides)
        if !reader.errors.isEmpty { throw DashboardErrors(errors: reader.errors) }
        return dashboard!
    }

    final class Reader {
        let file: String
        var errors: [DashboardError] = []
        var variables: [String: String] = [:]

        init(file: String) { self.file = file }

        func error(_ node: Node?, _ field: String, _ message: String) {
            errors.append(DashboardError(file: file, line: (node?.mark?.line ?? 0), field: field, message: message))
        }

        func mapping(_ node: Node, _ field: String, allowed: Set<String>) -> Node.Mapping? {
            guard let m = node.mapping else {
                error(node, field, "expected a mapping of keys to values")
                return nil
            }
            for (k, _) in m {
                if let key = k.string, !allowed.contains(key) {
                    error(
                        k, field.isEmpty ? key : "\(field).\(key)",
                        "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
                }
            }
            return m
        }

        /// `${name}` replaced by variable values.
        func substitute(_ text: String) -> String {
            guard text.contains("${") else { return text }
            var out = text
            for (k, v) in variables { out = out.replacingOccurrences(of: "${\(k)}", with: v) }
            return out
        }

        func string(_ m: Node.Mapping, _ key: String, _ field: String, required: Bool = false) -> String? {
            guard let node = m[key], node.null == nil else {
                if required { error(nil, "\(field).\(key)", "is required") }
                return nil
            }
            guard let s = node.scalar?.string else {
                error(node, "\(field).\(key)", "must be a single value")
                return nil
            }
            return substitute(s)
        }

        func number(_ m: Node.Mapping, _ key: String, _ field: String) -> Double? {
            guard let text = string(m, key, field) else { return nil }
            guard let x = Double(text), x.isFinite, abs(x) <= 1e15 else {
                error(m[key], "\(field).\(key)", "'\(text)' must be a number (magnitude at most 1e15)")
                return nil
            }
            return x
        }

        func size(_ m: Node.Mapping, _ key: String, _ field: String) -> Dashboard.Size {
            guard let text = string(m, key, field) else { return .auto }
            if text.hasSuffix("%"), let p = Double(text.dropLast()), p > 0, p <= 100 { return .percent(p) }
            if let n = Int(text), n > 0, n <= 1_000 { return .cells(n) }
            error(m[key], "\(field).\(key)", "'\(text)' must be a number of cells (1–1000) or a percentage like 50%")
            return .auto
        }

        func duration(_ m: Node.Mapping, _ key: String, _ field: String, default value: Double) -> Double {
            guard let text = string(m, key, field) else { return value }
            // At most 455 days (the longest retention): every later sum of times stays far from overflow.
            guard let seconds = Self.seconds(text), seconds > 0, seconds <= 455 * 86_400 else {
                error(m[key], "\(field).\(key)", "'\(text)' must be a duration like 30s, 5m, 3h or 1d, at most 455d")
                return value
            }
            return seconds
        }

        /// `30s`, `5m`, `3h`, `1d` (as queries take them), or plain seconds.
        static func seconds(_ text: String) -> Double? { TimeParsing.duration(text) ?? Double(text) }

        func dashboard(_ root: Node, name: String, overrides: [String: String]) -> Dashboard? {
            guard
                let m = mapping(
                    root, "", allowed: ["version", "title", "variables", "range", "refresh", "period", "pages"])
            else { return nil }
            if string(m, "version", "") != "1" { error(m["version"], "version", "must be 1") }
            var vars: [Dashboard.Variable] = []
            if let node = m["variables"], node.null == nil {
                if let list = node.mapping {
                    for (k, v) in list {
                        let vname = k.string ?? ""
                        let field = "variables.\(vname)"
                        if let value = v.scalar?.string {
                            vars.append(.init(name: vname, value: value))
                        } else if let vm = mapping(v, field, allowed: ["default", "from"]) {
                            var variable = Dashboard.Variable(name: vname, value: vm["default"]?.string ?? "")
                            if let from = vm["from"],
                                let fm = mapping(from, field + ".from", allowed: ["namespace", "metric", "dimension"])
                            {
                                if let ns = fm["namespace"]?.string, let metric = fm["metric"]?.string,
                                    let dim = fm["dimension"]?.string
                                {
                                    variable.from = (ns, metric, dim)
                                } else {
                                    error(from, field + ".from", "needs namespace, metric and dimension")
                                }
                            }
                            vars.append(variable)
                        }
                    }
                } else {
                    error(node, "variables", "must be a mapping of names to values or {default, from}")
                }
            }
            for i in vars.indices { if let o = overrides[vars[i].name] { vars[i].value = o } }
            for (k, _) in overrides where !vars.contains(where: { $0.name == k }) {
                error(
                    nil, "--var \(k)",
                    "the dashboard has no variable '\(k)' (it has: \(vars.map(\.name).joined(separator: ", ")))")
            }
            variables = Dictionary(vars.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            let title = string(m, "title", "", required: true) ?? name
            let range = Int64(duration(m, "range", "", default: 3_600))
            let refresh = duration(m, "refresh", "", default: 10)
            var period = Int64(duration(m, "period", "", default: 0))
            if period == 0 {
                let raw = max(10, range / 60)
                period = raw < 30 ? 10 : raw < 60 ? 30 : (raw / 60) * 60
            } else if !([1, 10, 30].contains(period) || period % 60 == 0) {
                error(m["period"], "period", "\(period) s must be 1, 10, 30 or a multiple of 60")
            }
            var pages: [Dashboard.Page] = []
            guard let pagesNode = m["pages"], let pageList = pagesNode.sequence, !pageList.isEmpty else {
                error(m["pages"], "pages", "is required: a list of pages, each with rows of widgets")
                return nil
            }
            for (p, pageNode) in pageList.enumerated() {
                let field = "pages[\(p)]"
                guard let pm = mapping(pageNode, field, allowed: ["title", "rows"]) else { continue }
                var page = Dashboard.Page(title: string(pm, "title", field) ?? "Page \(p + 1)", rows: [])
                guard let rows = pm["rows"]?.sequence, !rows.isEmpty else {
                    error(pageNode, field + ".rows", "is required: a list of rows")
                    continue
                }
                for (r, rowNode) in rows.enumerated() {
                    let rfield = "\(field).rows[\(r)]"
                    guard let rm = mapping(rowNode, rfield, allowed: ["height", "widgets"]) else { continue }
                    var row = Dashboard.Row(height: size(rm, "height", rfield), widgets: [])
                    guard let widgets = rm["widgets"]?.sequence, !widgets.isEmpty else {
                        error(rowNode, rfield + ".widgets", "is required: a list of widgets")
                        continue
                    }
                    for (w, widgetNode) in widgets.enumerated() {
                        if let widget = widget(widgetNode, "\(rfield).widgets[\(w)]", period: period) {
                            row.widgets.append(widget)
                        }
                    }
                    page.rows.append(row)
                }
                pages.append(page)
            }
            return Dashboard(
                name: name, title: title, variables: vars, range: range, refresh: refresh, period: period, pages: pages)
        }

        static let widgetFields: Set<String> = [
            "type", "title", "width", "queries", "unit", "y_min", "y_max", "thresholds", "decimals", "text",
            "log_group", "filter",
            "namespace", "dimension", "columns", "prefix", "max", "metric", "sort", "refresh",
        ]

        func widget(_ node: Node, _ field: String, period: Int64) -> Dashboard.Widget? {
            guard let m = mapping(node, field, allowed: Self.widgetFields) else { return nil }
            guard let typeText = string(m, "type", field, required: true) else { return nil }
            guard let kind = Dashboard.Kind(rawValue: typeText) else {
                error(
                    m["type"], "\(field).type",
                    "'\(typeText)' is not a widget type (\(Dashboard.Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
                return nil
            }
            var w = Dashboard.Widget(kind: kind, title: string(m, "title", field) ?? "", width: size(m, "width", field))
            w.unit = string(m, "unit", field) ?? ""
            w.yMin = number(m, "y_min", field)
            w.yMax = number(m, "y_max", field)
            if let decimals = number(m, "decimals", field) {
                if (0...10).contains(decimals) {
                    w.decimals = Int(decimals)
                } else {
                    error(m["decimals"], "\(field).decimals", "must be from 0 to 10")
                }
            }
            w.text = string(m, "text", field) ?? ""
            w.logGroup = string(m, "log_group", field) ?? ""
            w.filter = string(m, "filter", field) ?? ""
            w.namespace = string(m, "namespace", field) ?? ""
            w.dimension = string(m, "dimension", field) ?? ""
            w.prefix = string(m, "prefix", field) ?? ""
            w.max = number(m, "max", field) ?? 100
            if let node = m["thresholds"], node.null == nil {
                for (i, t) in (node.sequence ?? []).enumerated() {
                    let tf = "\(field).thresholds[\(i)]"
                    guard let tm = mapping(t, tf, allowed: ["value", "color"]), let value = number(tm, "value", tf)
                    else { continue }
                    let colour = string(tm, "color", tf) ?? "red"
                    let tint: Tint? = ["green": .good, "yellow": .warn, "red": .bad, "blue": .accent][colour]
                    if tint == nil {
                        error(tm["color"], "\(tf).color", "'\(colour)' must be green, yellow, red or blue")
                    }
                    w.thresholds.append(.init(value: value, tint: tint ?? .bad))
                }
                if node.sequence == nil { error(node, "\(field).thresholds", "must be a list of {value, color}") }
            }
            if let node = m["queries"], node.null == nil {
                do {
                    w.queries = try MetricData.decodeQueries(plain(node), at: "\(field).queries")
                    _ = try MetricData.validate(w.queries)
                } catch let e as MetricsError {
                    error(node, "\(field).queries", e.message)
                } catch {
                    self.error(node, "\(field).queries", "\(error)")
                }
            }
            if let node = m["metric"], node.null == nil,
                let mm = mapping(node, "\(field).metric", allowed: ["namespace", "name", "dimensions"])
            {
                var dims: [String: String] = [:]
                for (k, v) in mm["dimensions"]?.mapping ?? [:] { dims[k.string ?? ""] = substitute(v.string ?? "") }
                if let ns = string(mm, "namespace", "\(field).metric", required: true),
                    let name = string(mm, "name", "\(field).metric", required: true)
                {
                    w.metric = SeriesKey(namespace: ns, name: name, dimensions: dims)
                }
            }
            if let node = m["columns"], node.null == nil {
                for (i, c) in (node.sequence ?? []).enumerated() {
                    let cf = "\(field).columns[\(i)]"
                    guard let cm = mapping(c, cf, allowed: ["title", "metric", "stat"]),
                        let metric = string(cm, "metric", cf, required: true)
                    else { continue }
                    let statText = string(cm, "stat", cf) ?? "Sum"
                    guard let stat = Statistic(statText) else {
                        error(
                            cm["stat"], "\(cf).stat",
                            "'\(statText)' is not a statistic (SampleCount, Sum, Average, Minimum, Maximum or pNN)")
                        continue
                    }
                    w.columns.append(.init(title: string(cm, "title", cf) ?? metric, metric: metric, stat: stat))
                }
            }
            if m["refresh"] != nil { w.refresh = duration(m, "refresh", field, default: 10) }
            if let sortText = string(m, "sort", field) {
                if let index = w.columns.firstIndex(where: { $0.title == sortText }) {
                    w.sort = index + 1
                } else {
                    error(
                        m["sort"], "\(field).sort",
                        "'\(sortText)' is not a column title (\(w.columns.map(\.title).joined(separator: ", ")))")
                }
            }
            // What each kind needs.
            switch kind {
            case .timeseries, .sparkline, .stat, .gauge, .bar:
                if w.queries.isEmpty, m["queries"] == nil {
                    error(node, "\(field).queries", "a \(kind.rawValue) widget needs queries")
                }
            case .table:
                if w.namespace.isEmpty || w.dimension.isEmpty || w.columns.isEmpty {
                    error(node, field, "a table needs namespace, dimension and columns")
                }
            case .logs:
                if w.logGroup.isEmpty { error(node, "\(field).log_group", "a logs widget needs log_group") }
            case .heatmap:
                if w.metric == nil {
                    error(node, "\(field).metric", "a heatmap needs metric {namespace, name, dimensions}")
                }
            case .text:
                if w.text.isEmpty { error(node, "\(field).text", "a text widget needs text") }
            case .alarms: break
            }
            return w
        }

        /// A node as JSON values with variables substituted (for the query decoder): scalars are strings, but
        /// `true` and `false`.
        func plain(_ node: Node) -> JSONValue {
            if let mapping = node.mapping {
                var out: [String: JSONValue] = [:]
                for (k, v) in mapping { out[k.string ?? ""] = plain(v) }
                return .object(out)
            }
            if let sequence = node.sequence { return .array(sequence.map(plain)) }
            let text = substitute(node.string ?? "")
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return .string(text)
            }
        }
    }
}
