/// An error that knows its HTTP shape, as Hummingbird's `HTTPResponseError` does: every domain's error conforms, so
/// the server's one error middleware needs no list of domains. The body is always `ErrorBody`:
/// `{"error": {"code", "message", "reason"?}}`.
public protocol HTTPResponseError: Error, Sendable {
    /// The HTTP status (400 when the caller sent something wrong, and so on).
    var status: Int { get }
    /// A CloudWatch/SNS/Lambda-style code (`InvalidParameterValue`, `TooManyRequestsException`).
    var code: String { get }
    var message: String { get }
    /// Lambda's `reason` for throttles (`ReservedFunctionConcurrentInvocationLimitExceeded`), nil elsewhere.
    var reason: String? { get }
    /// Extra response headers (`Retry-After`).
    var headers: [(name: String, value: String)] { get }
    /// Problems listed beside the message (each alert file's FILE:LINE).
    var problems: [ErrorBody.Problem]? { get }
}

extension HTTPResponseError {
    public var reason: String? { nil }
    public var headers: [(name: String, value: String)] { [] }
    public var problems: [ErrorBody.Problem]? { nil }

    /// The body users see.
    public var body: ErrorBody {
        ErrorBody(error: .init(code: code, message: message, reason: reason), errors: problems)
    }
}
