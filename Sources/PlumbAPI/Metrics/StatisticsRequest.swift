/// `GET /api/v1/metrics/statistics` (CloudWatch GetMetricStatistics): its query parameters, checked one by one.
///
/// `namespace`, `name` (required); `dimensions` as `K=V,K2=V2`; `statistics` as `Average,p99` (default `Average`);
/// `period` in seconds (default 60); `start`, `end` any time form of `TimeParsing.queryTime` (default the last hour).
public struct StatisticsRequest: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var dimensions: [Dimension]
    public var statistics: [Statistic]
    public var period: Int64
    /// Texts, read against the server's clock.
    public var start: String?
    public var end: String?

    public init(
        namespace: String, name: String, dimensions: [Dimension] = [], statistics: [Statistic] = [.average],
        period: Int64 = 60,
        start: String? = nil, end: String? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions
        self.statistics = statistics
        self.period = period
        self.start = start
        self.end = end
    }

    /// Reads the parameters in the order the server always checked them, `end` before `start`, each refusal naming
    /// its parameter.
    public init(query q: [String: String], now: Double) throws {
        guard let namespace = q["namespace"], !namespace.isEmpty else {
            throw PlumbError(code: "MissingParameter", "'namespace' is required")
        }
        guard let name = q["name"], !name.isEmpty else {
            throw PlumbError(code: "MissingParameter", "'name' is required")
        }
        var dimensions: [Dimension] = []
        if let text = q["dimensions"], !text.isEmpty {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw PlumbError("dimensions must be K=V,K2=V2 (got '\(pair)')")
                }
                dimensions.append(Dimension(name: String(parts[0]), value: String(parts[1])))
            }
        }
        let statistics = try (q["statistics"] ?? "Average").split(separator: ",").map { text -> Statistic in
            guard let s = Statistic(String(text)) else {
                throw PlumbError(
                    "statistics: unknown statistic '\(Checked.shown(text))' (SampleCount, Sum, Average, Minimum, Maximum or pNN.NN)"
                )
            }
            return s
        }
        var period: Int64 = 60
        if let p = q["period"] {
            guard let parsed = Int64(p) else { throw PlumbError("period '\(p)' must be a whole number of seconds") }
            period = parsed
        }
        self.init(
            namespace: namespace, name: name, dimensions: dimensions, statistics: statistics, period: period,
            start: q["start"], end: q["end"])
        _ = try window(now: now)
    }

    /// The window asked for, read against `now`: the last hour unless given.
    public func window(now: Double) throws -> (start: Int64, end: Int64) {
        let end = try MetricDataRequest.seconds(end, "end", default: now + 1, now: now)
        return (try MetricDataRequest.seconds(start, "start", default: now - 3_600, now: now), end)
    }
}
