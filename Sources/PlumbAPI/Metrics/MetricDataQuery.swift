/// One query of a GetMetricData request (`POST /api/v1/metrics/query`, an alarm's `metrics`, a dashboard widget's
/// `queries`): a metric's statistic, or a metric math expression over other ids.
///
/// Decoded by `MetricData.decodeQueries` (whose errors name the field at fault); encoded in the shape it decodes:
/// `{"id", "label"?, "return", "metric": {"namespace", "name", "dimensions"}, "stat"}` or `{"id", "label"?, "return",
/// "expression"}`.
public struct MetricDataQuery: Sendable, Equatable, Encodable {
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
        return id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, label, metric, stat, expression
        case returnData = "return"
    }

    /// The `metric` object of a query.
    struct Metric: Encodable {
        let namespace: String
        let name: String
        let dimensions: [String: String]
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(label, forKey: .label)
        try container.encode(returnData, forKey: .returnData)
        switch source {
        case .metric(let series, let statistic):
            try container.encode(
                Metric(namespace: series.namespace, name: series.name, dimensions: series.dimensionDictionary),
                forKey: .metric)
            try container.encode(statistic.description, forKey: .stat)
        case .expression(_, let text):
            try container.encode(text, forKey: .expression)
        }
    }
}

extension MetricDataQuery: Decodable {
    /// One query on its own (an `AlarmDocument`'s `metrics`): read by `MetricData.decodeQuery`, whose refusals are
    /// placed by the coding path (`metrics[0].stat 'Median' is not a statistic …`).
    public init(from decoder: Decoder) throws {
        var place = ""
        for key in decoder.codingPath {
            if let index = key.intValue {
                place += "[\(index)]"
            } else {
                place += (place.isEmpty ? "" : ".") + key.stringValue
            }
        }
        self = try MetricData.decodeQuery(try JSONValue(from: decoder), at: place)
    }
}
