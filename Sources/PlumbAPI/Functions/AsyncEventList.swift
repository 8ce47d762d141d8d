/// `GET /api/v1/functions/{name}/events`: the function's async events (up to 1,000).
public struct AsyncEventList: Codable, Sendable, Equatable {
    public var events: [AsyncEventDescription]

    public init(events: [AsyncEventDescription]) { self.events = events }
}
