/// An error a caller of Plumb's API sees: an HTTP status, a CloudWatch/SNS-style code and a message.
///
/// The areas name it after themselves (`AlarmError`, `NotifyError`, `LogsError`, the server's `APIError`); one
/// middleware turns it into `{"error": {"code", "message"}}` with the status.
public struct PlumbError: HTTPResponseError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Problems listed beside the message (an alert file's FILE:LINE errors).
    public var problems: [ErrorBody.Problem]?

    public init(
        status: Int = 400, code: String = "InvalidParameterValue", _ message: String, problems: [ErrorBody.Problem]?
    ) {
        self.init(status: status, code: code, message)
        self.problems = problems
    }

    public var description: String { message }
}
