import PlumbAPI
import PlumbMetrics

/// A metric filter (CloudWatch Logs' PutMetricFilter): log events of one group that match the pattern become
/// metric samples as they arrive. Not retroactive.
public struct MetricFilter: Sendable, Equatable {
    /// The sample value: a constant (usually 1) or a field captured by a space-delimited pattern (`$bytes`).
    public enum Value: Sendable, Equatable {
        case constant(Double)
        case field(String)
    }

    public var name: String
    public var group: String
    public var pattern: FilterPattern
    public var namespace: String
    public var metric: String
    public var value: Value
    /// Emitted once per ingested batch that matched nothing.
    public var defaultValue: Double?
    public var unit: MetricUnit?
    /// Up to 3; values may name captured fields (`$status`).
    public var dimensions: [String: String]

    public init(
        name: String, group: String, pattern: FilterPattern, namespace: String, metric: String,
        value: Value = .constant(1),
        defaultValue: Double? = nil, unit: MetricUnit? = nil, dimensions: [String: String] = [:]
    ) {
        self.name = name
        self.group = group
        self.pattern = pattern
        self.namespace = namespace
        self.metric = metric
        self.value = value
        self.defaultValue = defaultValue
        self.unit = unit
        self.dimensions = dimensions
    }

    /// Whether a value is within what the metric store accepts (finite, magnitude within 2^±360, or zero).
    public static func storable(_ value: Double) -> Bool {
        value.isFinite && abs(value) <= IngestLimits.maxMagnitude
            && (value == 0 || abs(value) >= IngestLimits.minMagnitude)
    }

    /// The samples one batch of a stream produces.
    public func samples(for events: [InputLogEvent]) -> [Sample] {
        var out: [Sample] = []
        for event in events {
            guard let captured = pattern.match(event.message) else { continue }
            let number: Double?
            switch value {
            case .constant(let v): number = v
            case .field(let name): number = captured[name].flatMap(Double.init)
            }
            // The limits of PutMetricData hold here too: a captured 1e308 would make sums infinite.
            guard let number, Self.storable(number) else { continue }
            var dims: [String: String] = [:]
            for (key, raw) in dimensions {
                if raw.hasPrefix("$") {
                    guard let v = captured[String(raw.dropFirst())], !v.isEmpty else { continue }
                    dims[key] = v
                } else {
                    dims[key] = raw
                }
            }
            out.append(
                Sample(
                    series: SeriesKey(namespace: namespace, name: metric, dimensions: dims), unit: unit,
                    timestamp: event.timestamp / 1_000, value: .single(number)))
        }
        if out.isEmpty, let defaultValue, let newest = events.map(\.timestamp).max() {
            out.append(
                Sample(
                    series: SeriesKey(
                        namespace: namespace, name: metric, dimensions: dimensions.filter { !$0.value.hasPrefix("$") }),
                    unit: unit, timestamp: newest / 1_000, value: .single(defaultValue)))
        }
        return out
    }
}
