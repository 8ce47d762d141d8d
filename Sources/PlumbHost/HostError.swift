/// An error of the plugin host, with the CloudWatch/Lambda-style code and HTTP status it maps to.
public struct HostError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// Lambda's throttle reason, for 429s.
    public let reason: String?
    /// Seconds a throttled caller should wait (`Retry-After`).
    public let retryAfter: Int?

    public init(status: Int, code: String, message: String, reason: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public static func invalid(_ message: String) -> HostError {
        HostError(status: 400, code: "InvalidParameterValueException", message: message)
    }

    public static func notFound(_ message: String) -> HostError {
        HostError(status: 404, code: "ResourceNotFoundException", message: message)
    }

    static func throttled(_ function: String, reserved: Bool) -> HostError {
        HostError(
            status: 429, code: "TooManyRequestsException",
            message: "Rate exceeded: \(function) is at its concurrency limit",
            reason: reserved ? "ReservedFunctionConcurrentInvocationLimitExceeded" : "ConcurrentInvocationLimitExceeded",
            retryAfter: 1)
    }

    public var description: String { "\(code): \(message)" }
}
