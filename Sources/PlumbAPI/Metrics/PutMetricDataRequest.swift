/// `POST /api/v1/metrics` (CloudWatch PutMetricData in JSON): `{"namespace", "data": [datum, …]}`.
///
/// What clients encode. The server does not decode through this type: its `PutMetricDataDecoder` (PlumbMetrics)
/// walks the body by hand on the ingest hot path, refusing the whole batch with the datum and field at fault, and
/// also takes CloudWatch's `[{"Name", "Value"}]` dimensions.
public struct PutMetricDataRequest: Sendable, Equatable, Codable {
    /// One datum: exactly one of `value`, `values` (with optional `counts`) and `statistics`.
    public struct Datum: Sendable, Equatable, Codable {
        public var name: String
        public var dimensions: [String: String]?
        /// A CloudWatch unit (`Milliseconds`, `Count`, …).
        public var unit: String?
        /// Default: when the server receives it.
        public var timestamp: Timestamp?
        public var value: Double?
        public var values: [Double]?
        public var counts: [Double]?
        public var statistics: StatisticSet?
        /// 1 (high resolution) or 60 (default).
        public var storageResolution: Int?

        public init(
            name: String, dimensions: [String: String]? = nil, unit: String? = nil, timestamp: Timestamp? = nil,
            value: Double? = nil,
            values: [Double]? = nil, counts: [Double]? = nil, statistics: StatisticSet? = nil,
            storageResolution: Int? = nil
        ) {
            self.name = name
            self.dimensions = dimensions
            self.unit = unit
            self.timestamp = timestamp
            self.value = value
            self.values = values
            self.counts = counts
            self.statistics = statistics
            self.storageResolution = storageResolution
        }
    }

    /// A datum's time: epoch seconds, or RFC 3339 text.
    public enum Timestamp: Sendable, Equatable, Codable {
        case epochSeconds(Double)
        case rfc3339(String)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                self = .epochSeconds(seconds)
            } else {
                self = .rfc3339(try container.decode(String.self))
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .epochSeconds(let seconds): try container.encode(seconds)
            case .rfc3339(let text): try container.encode(text)
            }
        }
    }

    /// A pre-aggregated datum (CloudWatch's StatisticValues).
    public struct StatisticSet: Sendable, Equatable, Codable {
        public var sampleCount: Double
        public var sum: Double
        public var min: Double
        public var max: Double

        public init(sampleCount: Double, sum: Double, min: Double, max: Double) {
            self.sampleCount = sampleCount
            self.sum = sum
            self.min = min
            self.max = max
        }
    }

    public var namespace: String
    public var data: [Datum]

    public init(namespace: String, data: [Datum]) {
        self.namespace = namespace
        self.data = data
    }
}
