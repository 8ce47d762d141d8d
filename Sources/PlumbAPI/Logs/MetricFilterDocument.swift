/// The body of `PUT /api/v1/metric-filters/{name}`: one metric filter as in an alert file (snake_case keys), in
/// JSON or YAML.
///
/// What clients encode. The server reads the body with the alert-file parser, whose refusals name the field and
/// which refuses unknown keys.
public struct MetricFilterDocument: Sendable, Equatable, Codable {
    /// Must equal the name in the path when given.
    public var name: String?
    public var logGroup: String
    /// A CloudWatch Logs filter pattern (terms, JSON conditions, space-delimited fields).
    public var pattern: String
    public var namespace: String
    public var metric: String
    /// A number, or `$field` (read from each matching JSON event).
    public var value: JSONValue
    public var defaultValue: Double?
    public var unit: String?
    /// At most 3; values may be `$field`.
    public var dimensions: [String: String]?

    public init(
        name: String? = nil, logGroup: String, pattern: String, namespace: String, metric: String, value: JSONValue,
        defaultValue: Double? = nil, unit: String? = nil, dimensions: [String: String]? = nil
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
    }

    enum CodingKeys: String, CodingKey {
        case name, pattern, namespace, metric, value, unit, dimensions
        case logGroup = "log_group"
        case defaultValue = "default_value"
    }
}
