/// A rejected metrics request or query: CloudWatch's error code, a message naming the bad datum, line or
/// field, and the HTTP status it maps to.
public struct MetricsError: HTTPResponseError, CustomStringConvertible {
    public let code: String
    public let message: String
    public let httpStatus: Int
    /// Seconds a sender should wait before trying again (`Retry-After`), for a store that is behind.
    public let retryAfter: Int?
    public var status: Int { httpStatus }
    public var headers: [(name: String, value: String)] { retryAfter.map { [("Retry-After", String($0))] } ?? [] }

    public init(code: String, message: String, httpStatus: Int = 400, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    public static func invalid(_ message: String) -> MetricsError {
        MetricsError(code: "InvalidParameterValue", message: message)
    }

    public static func missing(_ message: String) -> MetricsError {
        MetricsError(code: "MissingParameter", message: message)
    }

    public static func tooLarge(_ message: String) -> MetricsError {
        MetricsError(code: "RequestEntityTooLarge", message: message, httpStatus: 413)
    }

    public static func notFound(_ message: String) -> MetricsError {
        MetricsError(code: "ResourceNotFound", message: message, httpStatus: 404)
    }

    public var description: String { "\(code): \(message)" }
}
