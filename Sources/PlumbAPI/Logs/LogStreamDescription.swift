/// One stream of a group as `GET /api/v1/logs/{group}/streams` lists it.
public struct LogStreamDescription: Sendable, Equatable, Codable {
    public var name: String
    /// RFC 3339 (UTC) time of its newest event; absent for a stream without events.
    public var lastEventAt: String?

    public init(name: String, lastEventAt: String?) {
        self.name = name
        self.lastEventAt = lastEventAt
    }
}

/// The answer of `GET /api/v1/logs/{group}/streams`.
public struct LogStreamsResponse: Sendable, Equatable, Codable {
    public var streams: [LogStreamDescription]

    public init(streams: [LogStreamDescription]) {
        self.streams = streams
    }
}
