/// The answer to `POST /api/v1/functions/{name}/invoke?type=Event` (202): the queued event's id. The payload is kept
/// durably and retried by Lambda's rules for async invocations.
public struct AsyncInvocation: Codable, Sendable, Equatable {
    public var eventId: Int64

    public init(eventId: Int64) { self.eventId = eventId }
}
