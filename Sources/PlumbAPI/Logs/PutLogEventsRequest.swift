/// `POST /api/v1/logs/{group}/{stream}` (CloudWatch PutLogEvents): `{"events": [{"timestamp"?, "message"}]}`, at
/// most 10,000 events or 1 MB of messages. Other fields are ignored.
public struct PutLogEventsRequest: Sendable, Equatable, Codable {
    public struct Event: Sendable, Equatable, Codable {
        /// Epoch milliseconds; default: when the server receives it.
        public var timestamp: Double?
        /// Free-form text (a JSON object is a structured line that filter patterns can read).
        public var message: String

        public init(timestamp: Double? = nil, message: String) {
            self.timestamp = timestamp
            self.message = message
        }
    }

    public var events: [Event]

    public init(events: [Event]) {
        self.events = events
    }
}

/// The answer of `POST /api/v1/logs/{group}/{stream}`.
public struct PutLogEventsResponse: Sendable, Equatable, Codable {
    public var accepted: Int
    /// Samples the metric filters of the group made from these events.
    public var metricSamples: Int

    public init(accepted: Int, metricSamples: Int) {
        self.accepted = accepted
        self.metricSamples = metricSamples
    }
}
