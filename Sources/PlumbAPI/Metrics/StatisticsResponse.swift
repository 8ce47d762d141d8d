/// The answer of `GET /api/v1/metrics/statistics` (CloudWatch GetMetricStatistics).
public struct StatisticsResponse: Sendable, Equatable, Codable {
    public var datapoints: [StatisticsDatapoint]
    /// The series' CloudWatch unit, `None` when it has none.
    public var unit: String
    /// The metric's name.
    public var label: String

    public init(datapoints: [StatisticsDatapoint], unit: String, label: String) {
        self.datapoints = datapoints
        self.unit = unit
        self.label = label
    }
}

/// One period of `GET /api/v1/metrics/statistics`: `{"timestamp": "…", "SampleCount": 4, "Average": 1.5, "p99": 3}`,
/// one member per statistic asked for (named as asked, `p99.9` too) beside the timestamp; `SampleCount` is always
/// there. A percentile that cannot be computed (a period of statistic sets) is absent.
public struct StatisticsDatapoint: Sendable, Equatable, Codable {
    /// RFC 3339 (UTC) start of the period.
    public var timestamp: String
    /// Statistic name → value.
    public var values: [String: Double]

    public init(timestamp: String, values: [String: Double]) {
        self.timestamp = timestamp
        self.values = values
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static let timestamp = Key(stringValue: "timestamp")
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        timestamp = try container.decode(String.self, forKey: .timestamp)
        var values: [String: Double] = [:]
        for key in container.allKeys where key.stringValue != Key.timestamp.stringValue {
            values[key.stringValue] = try container.decode(Double.self, forKey: key)
        }
        self.values = values
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(timestamp, forKey: .timestamp)
        for (name, value) in values { try container.encode(value, forKey: Key(stringValue: name)) }
    }
}
