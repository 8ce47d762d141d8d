/// One stored log event, as a search answers it and as a tail writes it (one NDJSON line each).
public struct LogEventDescription: Sendable, Equatable, Codable {
    /// Increases with every stored event (the tail's cursor).
    public var id: Int64
    public var stream: String
    /// Epoch milliseconds, as the producer gave it.
    public var timestamp: Int64
    /// `timestamp` as RFC 3339 with milliseconds (UTC).
    public var time: String
    /// Epoch milliseconds when the server stored it.
    public var ingestionTime: Int64
    /// Free-form text as the producer sent it: often a JSON object (a structured log line), read as such only by
    /// filter patterns and by displays that pick its `level` and `message`.
    public var message: String

    public init(id: Int64, stream: String, timestamp: Int64, time: String, ingestionTime: Int64, message: String) {
        self.id = id
        self.stream = stream
        self.timestamp = timestamp
        self.time = time
        self.ingestionTime = ingestionTime
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case id, stream, timestamp, time, ingestionTime, message
    }

    /// Lenient: a member the answer lacks reads as zero or empty, so that a display reads what it needs (time,
    /// stream, message) from any server that sends it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(Int64.self, forKey: .id) ?? 0
        stream = try c.decodeIfPresent(String.self, forKey: .stream) ?? ""
        timestamp = try c.decodeIfPresent(Int64.self, forKey: .timestamp) ?? 0
        time = try c.decodeIfPresent(String.self, forKey: .time) ?? ""
        ingestionTime = try c.decodeIfPresent(Int64.self, forKey: .ingestionTime) ?? 0
        message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
    }
}

/// The answer of `GET /api/v1/logs/{group}`: one page of matching events.
public struct LogEventsResponse: Sendable, Equatable, Codable {
    public var events: [LogEventDescription]
    /// The token of the next page (`next=`); absent on the last page.
    public var next: String?
    /// Events read to find these (the cost of the search).
    public var scanned: Int

    public init(events: [LogEventDescription], next: String?, scanned: Int) {
        self.events = events
        self.next = next
        self.scanned = scanned
    }

    enum CodingKeys: String, CodingKey {
        case events, next, scanned
    }

    /// Lenient as `LogEventDescription`: `scanned` absent reads as 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        events = try c.decode([LogEventDescription].self, forKey: .events)
        next = try c.decodeIfPresent(String.self, forKey: .next)
        scanned = try c.decodeIfPresent(Int.self, forKey: .scanned) ?? 0
    }
}
