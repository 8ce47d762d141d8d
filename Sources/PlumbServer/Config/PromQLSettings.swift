/// The `promql:` section: the limits of the Prometheus query API (`/api/v1/query`, `/api/v1/query_range`).
public struct PromQLSettings: Sendable, Decodable {
    /// The most samples one query may read and produce; past it the query answers 422 (Prometheus'
    /// `--query.max-samples`).
    public var maxSamples = 50_000_000
    /// How long one query may run before it answers 503 (Prometheus' `--query.timeout`).
    public var timeoutSeconds = 120
    /// How far back an instant selector looks for a sample (Prometheus' `--query.lookback-delta`).
    public var lookbackSeconds = 300

    enum CodingKeys: String, CodingKey {
        case maxSamples = "max_samples"
        case timeoutSeconds = "timeout_seconds"
        case lookbackSeconds = "lookback_seconds"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSamples = try c.decodeIfPresent(Int.self, forKey: .maxSamples) ?? maxSamples
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        lookbackSeconds = try c.decodeIfPresent(Int.self, forKey: .lookbackSeconds) ?? lookbackSeconds
        guard (1_000...1_000_000_000).contains(maxSamples) else {
            throw ConfigError("promql.max_samples must be 1000 to 1000000000")
        }
        guard (1...3_600).contains(timeoutSeconds) else {
            throw ConfigError("promql.timeout_seconds must be 1 to 3600")
        }
        guard (1...86_400).contains(lookbackSeconds) else {
            throw ConfigError("promql.lookback_seconds must be 1 to 86400")
        }
    }
}
