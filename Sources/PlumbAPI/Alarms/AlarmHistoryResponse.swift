/// The answer of `GET /api/v1/alarms/{name}/history` (CloudWatch DescribeAlarmHistory): newest first, 14 days kept.
public struct AlarmHistoryResponse: Sendable, Equatable, Codable {
    public struct Item: Sendable, Equatable, Codable {
        /// `StateUpdate`, `ConfigurationUpdate` or `Action`.
        public var type: String
        /// RFC 3339 (UTC).
        public var timestamp: String
        public var summary: String
        /// JSON text (CloudWatch's HistoryData): free-form, its shape depends on `type`.
        public var data: String?

        public init(type: String, timestamp: String, summary: String, data: String?) {
            self.type = type
            self.timestamp = timestamp
            self.summary = summary
            self.data = data
        }
    }

    public var name: String
    public var history: [Item]

    public init(name: String, history: [Item]) {
        self.name = name
        self.history = history
    }
}
