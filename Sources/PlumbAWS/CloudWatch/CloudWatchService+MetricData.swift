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
        var periods: Set<Int64> = []
        for (index, item) in items.enumerated() {
            let (query, period) = try metricDataQuery(item, place: "MetricDataQueries.member.\(index + 1)")
            queries.append(query)
            if let period { periods.insert(period) }
        }
        // Plumb evaluates one period a request: every query's (MetricStat.Period or Period) must agree.
        guard periods.count <= 1 else {
            throw AWSError.invalidParameter(
                "every query's period must be the same here (got \(periods.sorted().map(String.init).joined(separator: ", ")))"
            )
        }
        guard let period = periods.first else {
            throw AWSError.missingParameter("a MetricStat.Period (or a query's Period) is required")
        }
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
        let results = try await store.metricData(queries, start: start, end: end, period: period)
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
