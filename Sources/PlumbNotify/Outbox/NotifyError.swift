/// A notification API error with an HTTP status and an SNS-like code.
public struct NotifyError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameter", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func topicNotFound(_ name: String) -> NotifyError {
        NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'")
    }
}
