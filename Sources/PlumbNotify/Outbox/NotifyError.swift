import PlumbAPI

/// An error of topics, subscriptions and deliveries: an HTTP status, a code and a message, shown by the server's error middleware as `ErrorBody`.
public struct NotifyError: HTTPResponseError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func topicNotFound(_ name: String) -> NotifyError {
        NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'")
    }
}
