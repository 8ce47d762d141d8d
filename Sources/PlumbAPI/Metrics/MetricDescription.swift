/// One series as `GET /api/v1/metrics` lists it (CloudWatch ListMetrics).
public struct MetricDescription: Sendable, Equatable, Codable {
    public var namespace: String
    public var name: String
    public var dimensions: [String: String]
    /// The CloudWatch unit the series was last written with, absent when none was given.
    public var unit: String?

    public init(namespace: String, name: String, dimensions: [String: String], unit: String?) {
        self.namespace = namespace
        self.name = name
        self.dimensions = dimensions
        self.unit = unit
    }
}

/// The answer of `GET /api/v1/metrics`.
public struct ListMetricsResponse: Sendable, Equatable, Codable {
    public var metrics: [MetricDescription]

    public init(metrics: [MetricDescription]) {
        self.metrics = metrics
    }
}
