import Foundation
import PlumbAPI

/// One query of a GetMetricData request: a metric's statistic, or a metric math expression over other ids.
public struct MetricDataQuery: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case metric(SeriesKey, Statistic)
        case expression(MetricMath.Expression, text: String)
    }

    /// Starts with a lowercase letter; letters, digits and `_`.
    public var id: String
    public var label: String?
    /// Whether the result is returned (a hidden input of an expression is not).
    public var returnData: Bool
    public var source: Source

    public init(id: String, label: String? = nil, returnData: Bool = true, source: Source) {
        self.id = id
        self.label = label
        self.returnData = returnData
        self.source = source
    }

    public static func validID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first), id.count <= 255 else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// One returned result: the values per period, oldest first, missing periods absent.
public struct MetricDataResult: Sendable, Equatable {
    public var id: String
    public var label: String
    public var timestamps: [Int64]
    public var values: [Double]
}

public enum MetricData {
    /// Checks ids (valid, unique), references (known, no cycles) and the count (at most 500 queries, 10 metrics
    /// per expression as CloudWatch), and returns the queries in an order where each comes after what it reads.
    public static func validate(_ queries: [MetricDataQuery]) throws -> [MetricDataQuery] {
        guard !queries.isEmpty else { throw MetricsError.missing("at least one query is required") }
        guard queries.count <= 500 else { throw MetricsError.invalid("at most 500 queries per request") }
        var byID: [String: MetricDataQuery] = [:]
        for q in queries {
            guard MetricDataQuery.validID(q.id) else {
                throw MetricsError.invalid("query id '\(q.id)' must start with a lowercase letter and hold only letters, digits and '_'")
            }
            guard byID[q.id] == nil else { throw MetricsError.invalid("query id '\(q.id)' is used twice") }
            byID[q.id] = q
        }
        guard queries.contains(where: \.returnData) else { throw MetricsError.invalid("no query has return: true") }
        var ordered: [MetricDataQuery] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ id: String, from: String?) throws {
            guard let q = byID[id] else {
                throw MetricsError.invalid("expression \(from ?? "?") reads '\(id)', which is not a query id in this request")
            }
            if state[id] == 2 { return }
            guard state[id] != 1 else { throw MetricsError.invalid("expression \(id) depends on itself") }
            state[id] = 1
            if case .expression(let e, _) = q.source {
                for r in e.references.sorted() { try visit(r, from: id) }
            }
            state[id] = 2
            ordered.append(q)
        }
        for q in queries { try visit(q.id, from: nil) }
        return ordered
    }

    /// Evaluates validated queries on `grid` (the period starts of the range) with `fetch` giving each metric
    /// query's values; returns the results of the queries with `returnData`, in request order.
    public static func evaluate(
        _ queries: [MetricDataQuery], grid: [Int64], metrics: [String: [Int64: Double]]
    ) throws -> [MetricDataResult] {
        let ordered = try validate(queries)
        var values: [String: MetricMath.Value] = [:]
        for q in ordered {
            switch q.source {
            case .metric: values[q.id] = .series(metrics[q.id] ?? [:])
            case .expression(let e, let text):
                do {
                    values[q.id] = try MetricMath.evaluate(e, grid: grid) { id in values[id] ?? .series([:]) }
                } catch let error as MetricMath.EvaluationError {
                    throw MetricsError.invalid("expression \(q.id) (\(text)): \(error.message)")
                }
            }
        }
        return try queries.filter(\.returnData).map { q in
            let points: [Int64: Double]
            switch values[q.id] ?? .series([:]) {
            case .series(let s): points = s
            case .scalar(let x): points = Dictionary(uniqueKeysWithValues: grid.map { ($0, x) })
            case .list: throw MetricsError.invalid("expression \(q.id) gives a list; wrap it in SUM, AVG, MAX or MIN")
            }
            let times = points.keys.filter { t in grid.first.map { t >= $0 } ?? true }.sorted()
            return MetricDataResult(id: q.id, label: q.label ?? Self.defaultLabel(q), timestamps: times, values: times.map { points[$0]! })
        }
    }

    static func defaultLabel(_ q: MetricDataQuery) -> String {
        switch q.source {
        case .metric(let series, let stat): "\(series.name) \(stat.description)"
        case .expression(_, let text): text
        }
    }
}

extension MetricStore {
    /// GetMetricData: every metric query read in one transaction, then the expressions.
    public func metricData(_ queries: [MetricDataQuery], start: Int64, end: Int64, period: Int64) async throws -> [MetricDataResult] {
        try StatisticsQuery(series: SeriesKey(namespace: "x", name: "x", dimensions: []), period: period, start: start, end: end, statistics: [.sum]).validate()
        _ = try MetricData.validate(queries)
        let first = floorDiv(start, period) * period
        let grid = Array(stride(from: first, to: end, by: Int(period)))
        let metricQueries = queries.compactMap { q -> (String, SeriesKey, Statistic)? in
            if case .metric(let s, let stat) = q.source { return (q.id, s, stat) }
            return nil
        }
        let found = try await aggregates(metricQueries.map { AggregateRequest(series: $0.1, period: period, start: first, end: end) })
        var metrics: [String: [Int64: Double]] = [:]
        for ((id, _, statistic), periods) in zip(metricQueries, found) {
            metrics[id] = periods.compactMapValues { statistic.value(of: $0) }
        }
        return try MetricData.evaluate(queries, grid: grid, metrics: metrics)
    }
}

extension MetricData {
    /// Queries from decoded JSON or YAML: `[{"id", "metric": {"namespace", "name", "dimensions": {…}}, "stat",
    /// "label", "return"} | {"id", "expression", "label", "return"}]`. Errors name `place` and the query's index.
    public static func decodeQueries(_ value: Any?, at place: String) throws -> [MetricDataQuery] {
        guard let items = value as? [Any] else { throw MetricsError.invalid("\(place) must be a list of queries") }
        return try items.enumerated().map { index, item in
            let at = "\(place)[\(index)]"
            guard let q = item as? [String: Any] else { throw MetricsError.invalid("\(at) must be an object") }
            let known: Set<String> = ["id", "metric", "stat", "label", "return", "expression"]
            if let unknown = q.keys.sorted().first(where: { !known.contains($0) }) {
                throw MetricsError.invalid("\(at) has an unknown field '\(unknown)' (id, metric, stat, expression, label, return)")
            }
            guard let id = q["id"] as? String else { throw MetricsError.missing("\(at).id is required") }
            let label = q["label"] as? String
            let returnData = q["return"] as? Bool ?? true
            if let text = q["expression"] as? String {
                guard q["metric"] == nil else { throw MetricsError.invalid("\(at) has both metric and expression") }
                do {
                    return MetricDataQuery(id: id, label: label, returnData: returnData, source: .expression(try MetricMath.parse(text), text: text))
                } catch let e as MetricMath.SyntaxError {
                    throw MetricsError.invalid("\(at).expression '\(text)': \(e)")
                }
            }
            guard let metric = q["metric"] as? [String: Any] else { throw MetricsError.missing("\(at) needs metric or expression") }
            guard let namespace = metric["namespace"] as? String, !namespace.isEmpty else { throw MetricsError.missing("\(at).metric.namespace is required") }
            guard let name = metric["name"] as? String, !name.isEmpty else { throw MetricsError.missing("\(at).metric.name is required") }
            var dimensions: [String: String] = [:]
            if let d = metric["dimensions"] {
                guard let map = d as? [String: Any] else { throw MetricsError.invalid("\(at).metric.dimensions must be a map of name to value") }
                for (k, v) in map { dimensions[k] = "\(v)" }
            }
            let statText = q["stat"] as? String ?? "Average"
            guard let stat = Statistic(statText) else {
                throw MetricsError.invalid("\(at).stat '\(statText)' is not a statistic (SampleCount, Sum, Average, Minimum, Maximum or pNN.NN)")
            }
            return MetricDataQuery(
                id: id, label: label, returnData: returnData,
                source: .metric(SeriesKey(namespace: namespace, name: name, dimensions: dimensions), stat))
        }
    }
}
