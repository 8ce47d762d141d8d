/// The checks and the decoding every GetMetricData query list goes through, wherever it comes from (a request body,
/// an alert file, a dashboard); the evaluation is the metric store's (PlumbMetrics' `MetricData+Evaluation`).
public enum MetricData {
    /// Checks ids (valid, unique), references (known, no cycles) and the count (at most 500 queries, 10 metrics
    /// per expression as CloudWatch), and returns the queries in an order where each comes after what it reads.
    public static func validate(_ queries: [MetricDataQuery]) throws -> [MetricDataQuery] {
        guard !queries.isEmpty else { throw MetricsError.missing("at least one query is required") }
        guard queries.count <= 500 else { throw MetricsError.invalid("at most 500 queries per request") }
        var byID: [String: MetricDataQuery] = [:]
        for q in queries {
            guard MetricDataQuery.validID(q.id) else {
                throw MetricsError.invalid(
                    "query id '\(q.id)' must start with a lowercase letter and hold only letters, digits and '_'")
            }
            guard byID[q.id] == nil else { throw MetricsError.invalid("query id '\(q.id)' is used twice") }
            byID[q.id] = q
        }
        guard queries.contains(where: \.returnData) else { throw MetricsError.invalid("no query has return: true") }
        var ordered: [MetricDataQuery] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ id: String, from: String?) throws {
            guard let q = byID[id] else {
                throw MetricsError.invalid(
                    "expression \(from ?? "?") reads '\(id)', which is not a query id in this request")
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

    /// Queries from decoded JSON (or YAML read as JSON values): `[{"id", "metric": {"namespace", "name",
    /// "dimensions": {…}}, "stat", "label", "return"} | {"id", "expression", "label", "return"}]`. Errors name `place`
    /// and the query's index.
    ///
    /// Read by hand rather than by `Decodable` so that each refusal says which query and field is wrong, and so that
    /// what was accepted stays accepted: a `label` or `return` of another type is ignored, a dimension value that
    /// is not a string is read as its text.
    public static func decodeQueries(_ value: JSONValue?, at place: String) throws -> [MetricDataQuery] {
        guard case .array(let items)? = value else { throw MetricsError.invalid("\(place) must be a list of queries") }
        return try items.enumerated().map { index, item in try decodeQuery(item, at: "\(place)[\(index)]") }
    }

    static let queryFields: Set<String> = ["id", "metric", "stat", "label", "return", "expression"]

    /// `at` names the query's place in errors only (it is built only then: a request has hundreds of queries).
    static func decodeQuery(_ item: JSONValue, at place: @autoclosure () -> String) throws -> MetricDataQuery {
        var at: String { place() }
        guard let q = item.object else { throw MetricsError.invalid("\(at) must be an object") }
        if q.keys.contains(where: { !queryFields.contains($0) }),
            let unknown = q.keys.sorted().first(where: { !queryFields.contains($0) })
        {
            throw MetricsError.invalid(
                "\(at) has an unknown field '\(unknown)' (id, metric, stat, expression, label, return)")
        }
        guard let id = q["id"]?.string else { throw MetricsError.missing("\(at).id is required") }
        let label = q["label"]?.string
        let returnData = q["return"].flatMap(Self.boolean) ?? true
        if let text = q["expression"]?.string {
            guard q["metric"] == nil else { throw MetricsError.invalid("\(at) has both metric and expression") }
            do {
                return MetricDataQuery(
                    id: id, label: label, returnData: returnData,
                    source: .expression(try MetricMath.parse(text), text: text))
            } catch let e as MetricMath.SyntaxError {
                throw MetricsError.invalid("\(at).expression '\(text)': \(e)")
            }
        }
        guard let metric = q["metric"]?.object else { throw MetricsError.missing("\(at) needs metric or expression") }
        guard let namespace = metric["namespace"]?.string, !namespace.isEmpty else {
            throw MetricsError.missing("\(at).metric.namespace is required")
        }
        guard let name = metric["name"]?.string, !name.isEmpty else {
            throw MetricsError.missing("\(at).metric.name is required")
        }
        var dimensions: [String: String] = [:]
        if let d = metric["dimensions"] {
            guard let map = d.object else {
                throw MetricsError.invalid("\(at).metric.dimensions must be a map of name to value")
            }
            for (k, v) in map { dimensions[k] = Self.text(v) }
        }
        let statText = q["stat"]?.string ?? "Average"
        guard let stat = Statistic(statText) else {
            throw MetricsError.invalid(
                "\(at).stat '\(statText)' is not a statistic (SampleCount, Sum, Average, Minimum, Maximum or pNN.NN)")
        }
        return MetricDataQuery(
            id: id, label: label, returnData: returnData,
            source: .metric(SeriesKey(namespace: namespace, name: name, dimensions: dimensions), stat))
    }

    /// `return` as Foundation's reading took it: a boolean, or the numbers 0 and 1; anything else is no answer.
    static func boolean(_ value: JSONValue) -> Bool? {
        switch value {
        case .bool(let b): b
        case .number(0): false
        case .number(1): true
        default: nil
        }
    }

    /// A dimension value given as another type than a string, as its text (`5`, `1.5`, `true`).
    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
        case .null: "<null>"
        case .array, .object: "\(value)"
        }
    }
}
