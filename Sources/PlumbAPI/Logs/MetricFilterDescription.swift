/// One metric filter (CloudWatch Logs' metric filter: a pattern over a group's events that makes a metric), as the
/// API shows it. Created with `PUT /api/v1/metric-filters/{name}` from the same document as in an alert file.
public struct MetricFilterDescription: Sendable, Equatable, Codable {
    public var name: String
    public var logGroup: String
    /// The filter pattern's text.
    public var pattern: String
    public var namespace: String
    public var metric: String
    /// A number as text (`"1"`), or `$field` for a value read from each matching JSON event.
    public var value: String
    /// Recorded for events that do not match (none when absent).
    public var defaultValue: Double?
    public var unit: String?
    /// Dimension name → value or `$field`.
    public var dimensions: [String: String]
    /// `file` (declared in an alert file) or `api`.
    public var source: String

    public init(
        name: String, logGroup: String, pattern: String, namespace: String, metric: String, value: String,
        defaultValue: Double?,
        unit: String?, dimensions: [String: String], source: String
    ) {
        self.name = name
        self.logGroup = logGroup
        self.pattern = pattern
        self.namespace = namespace
        self.metric = metric
        self.value = value
        self.defaultValue = defaultValue
        self.unit = unit
        self.dimensions = dimensions
        self.source = source
    }
}

/// The answer of `GET /api/v1/metric-filters`.
public struct MetricFiltersResponse: Sendable, Equatable, Codable {
    public var metricFilters: [MetricFilterDescription]

    public init(metricFilters: [MetricFilterDescription]) {
        self.metricFilters = metricFilters
    }
}
