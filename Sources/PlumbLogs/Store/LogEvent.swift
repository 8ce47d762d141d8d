import PlumbAPI
import PlumbStore

/// One log event as stored: where it went, when it happened (epoch milliseconds), and its text.
public struct LogEvent: Sendable, Equatable, Codable {
    public var id: Int64
    public var group: String
    public var stream: String
    public var timestamp: Int64
    public var ingestionTime: Int64
    public var message: String

    public init(id: Int64 = 0, group: String, stream: String, timestamp: Int64, ingestionTime: Int64, message: String) {
        self.id = id
        self.group = group
        self.stream = stream
        self.timestamp = timestamp
        self.ingestionTime = ingestionTime
        self.message = message
    }
}

/// An event offered for ingestion.
public struct InputLogEvent: Sendable, Equatable {
    /// Epoch milliseconds.
    public var timestamp: Int64
    public var message: String

    public init(timestamp: Int64, message: String) {
        self.timestamp = timestamp
        self.message = message
    }
}
