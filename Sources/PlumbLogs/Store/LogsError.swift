import PlumbAPI

/// An error of the logs: a refused group, stream, event, filter pattern or metric filter: an HTTP status, a code and a message, shown by the server's error middleware as `ErrorBody`.
public struct LogsError: HTTPResponseError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
