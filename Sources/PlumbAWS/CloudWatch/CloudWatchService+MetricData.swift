import Foundation
import PlumbAPI
import PlumbMetrics

/// GetMetricData: metric queries and metric math, as Plumb's `POST /api/v1/metrics/query` evaluates them.
extension CloudWatchService {
    /// At most 500 queries a request, as CloudWatch.
    static let maxQueries = 500

    func getMetricData(_ input: [String: JSONValue]) async throws -> [String: JSONValue] {
        guard case .array(let items)? = input["MetricDataQueries"], !items.isEmpty else {
            throw AWSError.missingParameter("The parameter MetricDataQueries is required.")
        }
        guard items.count <= Self.maxQueries else {
            throw AWSError.invalidParameter("MetricDataQueries holds at most \(Self.maxQueries) queries")
        }
        var queries: [MetricDataQuery] = []
        var given: [String: Int64] = [:]
        for (index, item) in items.enumerated() {
            let (query, period) = try metricDataQuery(item, place: "MetricDataQueries.member.\(index + 1)")
            queries.append(query)
            if let period { given[query.id] = period }
        }
        let periods = try Self.periods(of: queries, given: given)
        let start = try time(input, "StartTime")
        let end = try time(input, "EndTime")
        let descending =
            try optionalString(input, "ScanBy").map { scan -> Bool in
                guard scan == "TimestampDescending" || scan == "TimestampAscending" else {
                    throw AWSError.invalidParameter("ScanBy must be TimestampDescending or TimestampAscending")
                }
                return scan == "TimestampDescending"
            } ?? true
        var maxDatapoints = 100_800
        if let value = input["MaxDatapoints"] {
            guard case .number(let n) = value, let limit = Int(exactly: n), limit >= 1 else {
                throw AWSError.invalidParameter("MaxDatapoints must be a positive whole number")
            }
            maxDatapoints = min(limit, 100_800)
        }
        // Each period's queries are evaluated together (an expression reads queries of its own period only); a
        // period whose queries are all hidden inputs has nothing to answer. The request as a whole is checked first.
        do { _ = try MetricData.validate(queries) } catch let error as MetricsError {
            throw AWSError.invalidParameter(error.message)
        }
        var byID: [String: MetricDataResult] = [:]
        for period in Set(periods.values).sorted() {
            let group = queries.filter { periods[$0.id] == period }
            guard group.contains(where: \.returnData) else { continue }
            for result in try await store.metricData(group, start: start, end: end, period: period) {
                byID[result.id] = result
            }
        }
        let results = queries.compactMap { byID[$0.id] }
        // A page shares MaxDatapoints among the results; NextToken continues every result where it stopped.
        let offset = try pageOffset(input["NextToken"], count: results.map(\.timestamps.count).max() ?? 0)
        let perResult = max(1, maxDatapoints / max(1, results.count))
        var more = false
        let page: [JSONValue] = results.map { result in
            var order = Array(result.timestamps.indices)
            if descending { order.reverse() }
            let slice = order.dropFirst(offset).prefix(perResult)
            if offset + slice.count < order.count { more = true }
            return .object([
                "Id": .string(result.id), "Label": .string(result.label),
                "Timestamps": .array(slice.map { .number(Double(result.timestamps[$0])) }),
                "Values": .array(slice.map { .number(result.values[$0]) }),
                "StatusCode": .string(offset + slice.count < order.count ? "PartialData" : "Complete"),
            ])
        }
        var output: [String: JSONValue] = ["MetricDataResults": .array(page), "Messages": .array([])]
        if more { output["NextToken"] = AWSPageToken.encode(offset + perResult) }
        return output
    }

    /// Each query's period: a metric's is its own (`MetricStat.Period`, or the query's `Period`); an expression's is
    /// that of the queries it reads, which must agree (a `Period` given to it must be the same); an expression that
    /// reads no query takes its `Period`, else the request's one period. A query whose period cannot be told is
    /// refused.
    static func periods(of queries: [MetricDataQuery], given: [String: Int64]) throws -> [String: Int64] {
        var periods: [String: Int64] = [:]
        var explicit: [String: Int64] = [:]
        for query in queries {
            if case .expression = query.source {
                explicit[query.id] = given[query.id]
            } else {
                periods[query.id] = given[query.id]
            }
        }
        let metricPeriods = Set(periods.values)
        let single = metricPeriods.count == 1 ? metricPeriods.first : nil
        var open = queries.filter { periods[$0.id] == nil }
        while !open.isEmpty {
            let before = open.count
            open = try open.filter { query in
                guard case .expression(let expression, _) = query.source else { return true }
                let read = expression.references.filter { id in queries.contains { $0.id == id } }
                if read.contains(where: { periods[$0] == nil }) { return true }
                let found = Set(read.compactMap { periods[$0] })
                guard found.count <= 1 else {
                    throw AWSError.invalidParameter(
                        "query \(query.id) reads queries of different periods (\(found.sorted().map(String.init).joined(separator: ", ")) s); an expression reads queries of one period"
                    )
                }
                if let read = found.first, let own = explicit[query.id], own != read {
                    throw AWSError.invalidParameter(
                        "query \(query.id) has Period \(own) but reads queries of period \(read)")
                }
                guard let period = found.first ?? explicit[query.id] ?? single else { return true }
                periods[query.id] = period
                return false
            }
            guard open.count < before else {
                throw AWSError.missingParameter(
                    "a period is required for query \(open[0].id) (its MetricStat.Period, or the query's Period)")
            }
        }
        return periods
    }

    /// One of GetMetricData's queries, and the period it asks for.
    func metricDataQuery(_ item: JSONValue, place: String) throws -> (MetricDataQuery, Int64?) {
        guard case .object(let q) = item else { throw AWSError.invalidParameter("\(place) must be a structure") }
        guard let id = q["Id"]?.string, MetricDataQuery.validID(id) else {
            throw AWSError.invalidParameter(
                "\(place).Id must start with a lowercase letter and hold letters, digits and _")
        }
        let label = q["Label"]?.string
        let returnData = q["ReturnData"]?.bool ?? true
        var period = try q["Period"].map { try wholeNumber($0, "\(place).Period") }
        if let expression = q["Expression"]?.string {
            guard q["MetricStat"] == nil else {
                throw AWSError.invalidParameter("\(place) has both MetricStat and Expression")
            }
            do {
                return (
                    MetricDataQuery(
                        id: id, label: label, returnData: returnData,
                        source: .expression(try MetricMath.parse(expression), text: expression)), period
                )
            } catch let error as MetricMath.SyntaxError {
                throw AWSError.invalidParameter("\(place).Expression '\(expression)': \(error)")
            }
        }
        guard case .object(let stat)? = q["MetricStat"], case .object(let metric)? = stat["Metric"],
            let namespace = metric["Namespace"]?.string, let name = metric["MetricName"]?.string,
            let statText = stat["Stat"]?.string
        else {
            throw AWSError.missingParameter(
                "\(place) needs an Expression or a MetricStat with Metric (Namespace, MetricName), Period and Stat")
        }
        guard let statistic = Statistic(statText) else {
            throw AWSError.invalidParameter("\(place).MetricStat.Stat '\(statText)' is not a statistic Plumb serves")
        }
        var dimensions: [PlumbAPI.Dimension] = []
        if case .array(let pairs)? = metric["Dimensions"] {
            for pair in pairs {
                guard case .object(let d) = pair, let n = d["Name"]?.string, let v = d["Value"]?.string else {
                    throw AWSError.invalidParameter("\(place).MetricStat.Metric.Dimensions need Name and Value")
                }
                dimensions.append(PlumbAPI.Dimension(name: n, value: v))
            }
        }
        if let statPeriod = stat["Period"] { period = try wholeNumber(statPeriod, "\(place).MetricStat.Period") }
        return (
            MetricDataQuery(
                id: id, label: label, returnData: returnData,
                source: .metric(SeriesKey(namespace: namespace, name: name, dimensions: dimensions), statistic)),
            period
        )
    }

    func wholeNumber(_ value: JSONValue, _ place: String) throws -> Int64 {
        guard case .number(let n) = value, let whole = Int64(exactly: n), whole > 0 else {
            throw AWSError.invalidParameter("\(place) must be a positive whole number of seconds")
        }
        return whole
    }
}
