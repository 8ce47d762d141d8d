import Foundation
import PlumbAPI
import PlumbMetrics
import Synchronization

/// Where PromQL reads series from: the catalog's label sets, and samples in a time range. Times are milliseconds.
public protocol PromQLSource: Sendable {
    /// The label sets of every series that every matcher accepts.
    func series(matching matchers: [LabelMatcher]) async throws -> [PromLabels]
    /// The samples in `[from, through]` of every series that every matcher accepts; series without samples there are
    /// left out.
    func select(_ matchers: [LabelMatcher], from: Int64, through: Int64) async throws -> [PromSeries]
}

/// A label matcher ready to test values: regular expressions compiled once, anchored as Prometheus anchors them.
public struct CompiledMatcher {
    public let matcher: LabelMatcher
    let regex: NSRegularExpression?

    public init(_ matcher: LabelMatcher) throws(PromQLError) {
        self.matcher = matcher
        switch matcher.kind {
        case .equal, .notEqual:
            regex = nil
        case .regex, .notRegex:
            do {
                regex = try NSRegularExpression(pattern: "\\A(?:" + Self.icu(matcher.value) + ")\\z")
            } catch {
                throw PromQLError(
                    .badData,
                    "invalid regular expression in matcher \(matcher.name)\(matcher.kind.rawValue)\"\(matcher.value)\"")
            }
        }
    }

    /// RE2's syntax in ICU's: named groups `(?P<name>…)` are `(?<name>…)`.
    public static func icu(_ pattern: String) -> String {
        pattern.contains("(?P<") ? pattern.replacingOccurrences(of: "(?P<", with: "(?<") : pattern
    }

    /// Whether a series whose label has `value` ("" when it has none) is selected.
    public func matches(_ value: String) -> Bool {
        switch matcher.kind {
        case .equal: return value == matcher.value
        case .notEqual: return value != matcher.value
        case .regex: return Self.whole(regex!, value)
        case .notRegex: return !Self.whole(regex!, value)
        }
    }

    static func whole(_ regex: NSRegularExpression, _ value: String) -> Bool {
        let range = NSRange(value.startIndex..<value.endIndex, in: value)
        return regex.firstMatch(in: value, options: [.anchored], range: range) != nil
    }

    public static func compile(_ matchers: [LabelMatcher]) throws(PromQLError) -> [CompiledMatcher] {
        var out: [CompiledMatcher] = []
        for m in matchers { out.append(try CompiledMatcher(m)) }
        return out
    }

    /// Whether every matcher accepts `labels`.
    public static func all(_ matchers: [CompiledMatcher], accept labels: PromLabels) -> Bool {
        matchers.allSatisfy { $0.matches(labels.get($0.matcher.name)) }
    }
}

/// How a Plumb series looks to PromQL: one documented rule (README "Grafana"), the inverse of `PrometheusNames` for
/// every series that came from Prometheus or OpenTelemetry, so a name sent is the name queried.
///
/// - A series of namespace `Prometheus` (names without a prefix, such as `up`) is its metric name alone.
/// - Otherwise `<namespace>_<name>` when that is a metric name `PrometheusNames` splits back into the same two:
///   `node_cpu_seconds_total`.
/// - Otherwise (Plumb's own and CloudWatch-style namespaces such as `Plumb/Functions`) `<namespace>_<name>` with every
///   character outside `[a-zA-Z0-9_:]` turned into `_`: `Plumb_Functions_Duration`, what VictoriaMetrics shows too.
/// - Each dimension is the label of its own name when that is a label name not starting with `__`; otherwise
///   `plumb_d_<hex of its UTF-8 bytes>`.
public enum PromQLNames {
    public static func metricName(_ key: SeriesKey) -> String {
        if key.namespace == PrometheusNames.bareNamespace, PrometheusNames.isMetricName(key.name) { return key.name }
        let joined = key.namespace + "_" + key.name
        if PrometheusNames.isMetricName(joined), PrometheusNames.split(joined) == (key.namespace, key.name) {
            return joined
        }
        var name = ""
        for scalar in joined.unicodeScalars {
            let plain =
                (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "_" || scalar == ":"
            name.unicodeScalars.append(plain ? scalar : "_")
        }
        if let first = name.unicodeScalars.first, first >= "0" && first <= "9" { name = "_" + name }
        return name
    }

    public static func labelName(ofDimension name: String) -> String {
        if PromLabels.isLabelName(name), !name.hasPrefix("__") { return name }
        var label = "plumb_d_"
        for byte in name.utf8 {
            label += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        return label
    }

    public static func labels(_ key: SeriesKey) -> PromLabels {
        var pairs: [(String, String)] = [(PromLabels.metricName, metricName(key))]
        for d in key.dimensions { pairs.append((labelName(ofDimension: d.name), d.value)) }
        return PromLabels(pairs)
    }
}

/// PromQL over the metric store contract, so it reads every backend (SQLite, VictoriaMetrics) alike.
///
/// A sample is a stored period of the series at its finest resolution: one second while it is recent, a minute or
/// more once rolled up. Its value is the period's average: the value itself for data from Prometheus and OpenTelemetry
/// (one sample a second at most), a counter's increment for Plumb's own counters, and the mean of what a period
/// received for CloudWatch-style data (a function's `Duration`).
public struct MetricStorePromQLSource: PromQLSource {
    public let store: any MetricStoring
    /// How many series one `periodSeries` read takes at most.
    let batch = 256
    /// Each series' label set, made once: every query matches the whole catalog.
    let labelSets = LabelSets()

    final class LabelSets: Sendable {
        /// By the backend's id of the series (checked against the key: an id may be reused after a deletion), and by
        /// key for backends without ids.
        let byID = Mutex<[Int64: (key: SeriesKey, labels: PromLabels)]>([:])
        let byKey = Mutex<[SeriesKey: PromLabels]>([:])

        func labels(of infos: [SeriesInfo]) -> [PromLabels] {
            if infos.allSatisfy({ $0.id != 0 }) {
                return byID.withLock { map in
                    // Series deleted by retention leave their entries: start over when they outnumber the catalog.
                    if map.count > 2 * infos.count + 1_000 { map.removeAll() }
                    return infos.map { info in
                        if let found = map[info.id], found.key == info.key { return found.labels }
                        let made = PromQLNames.labels(info.key)
                        map[info.id] = (info.key, made)
                        return made
                    }
                }
            }
            return byKey.withLock { map in
                if map.count > 2 * infos.count + 1_000 { map.removeAll() }
                return infos.map { info in
                    if let found = map[info.key] { return found }
                    let made = PromQLNames.labels(info.key)
                    map[info.key] = made
                    return made
                }
            }
        }
    }

    public init(store: any MetricStoring) {
        self.store = store
    }

    func catalog(_ matchers: [LabelMatcher]) async throws -> [(key: SeriesKey, labels: PromLabels)] {
        let compiled = try CompiledMatcher.compile(matchers)
        let infos = try await store.allSeries()
        var out: [(key: SeriesKey, labels: PromLabels)] = []
        for (info, labels) in zip(infos, labelSets.labels(of: infos))
        where CompiledMatcher.all(compiled, accept: labels) {
            out.append((info.key, labels))
        }
        return out
    }

    public func series(matching matchers: [LabelMatcher]) async throws -> [PromLabels] {
        try await catalog(matchers).map(\.labels)
    }

    public func select(_ matchers: [LabelMatcher], from: Int64, through: Int64) async throws -> [PromSeries] {
        let found = try await catalog(matchers)
        guard !found.isEmpty, from <= through else { return [] }
        let start = Checked.floorDivision(from + 999, 1_000)
        let end = Checked.floorDivision(through, 1_000) + 1
        guard start < end else { return [] }
        var out: [PromSeries] = []
        var k = 0
        while k < found.count {
            let part = found[k..<min(found.count, k + batch)]
            k += part.count
            let requests = part.map {
                AggregateRequest(series: $0.key, period: 1, start: start, end: end, distribution: false)
            }
            let read = try await store.periodSeries(requests)
            for (entry, periods) in zip(part, read) where !periods.starts.isEmpty {
                var series = PromSeries(labels: entry.labels)
                series.times.reserveCapacity(periods.starts.count)
                series.values.reserveCapacity(periods.starts.count)
                // Fields read in place: an `Aggregate` is a large value, not copied per period.
                for k in periods.starts.indices where periods.aggregates[k].count > 0 {
                    let (count, sum) = (periods.aggregates[k].count, periods.aggregates[k].sum)
                    series.times.append(periods.starts[k] * 1_000)
                    series.values.append(count == 1 ? sum : sum / count)
                }
                if !series.times.isEmpty { out.append(series) }
            }
        }
        return out
    }
}
