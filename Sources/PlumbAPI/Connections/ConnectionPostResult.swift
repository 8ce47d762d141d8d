/// The answer to `POST /api/v1/connections/{id}`: the frame is queued for the connection (`{"status": "queued"}`).
///
/// The request body is free-form: the text frame to send, non-empty UTF-8, passed through as it is.
public struct ConnectionPostResult: Codable, Sendable, Equatable {
    public var status: String

    public init(status: String = "queued") { self.status = status }
}
