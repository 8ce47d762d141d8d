/// The answer of `POST /api/v1/metrics/query`: one result per query with `return: true`, in request order.
public struct MetricDataResponse: Sendable, Equatable, Codable {
    /// One query's values per period, oldest first; periods without a value are absent.
    public struct Result: Sendable, Equatable, Codable {
        public var id: String
        public var label: String
        /// RFC 3339 (UTC) period starts.
        public var timestamps: [String]
        public var values: [Double]

        public init(id: String, label: String, timestamps: [String], values: [Double]) {
            self.id = id
            self.label = label
            self.timestamps = timestamps
            self.values = values
        }
    }

    public var results: [Result]

    public init(results: [Result]) {
        self.results = results
    }
}
