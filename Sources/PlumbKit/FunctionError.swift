import PlumbAPI

/// An error answered to the caller of a function: thrown on purpose by a function, or by the host on its
/// behalf (throttled, unknown function). The server answers with `status` and the JSON error shape
/// `{"error": {"code", "message"[, "reason"]}}`. A 4xx is the caller's fault and does not count in `Errors`.
public struct FunctionError: HTTPResponseError, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// A finer cause, as Lambda's throttle `reason`.
    public let reason: String?
    /// Seconds the caller should wait before retrying (`Retry-After`).
    public let retryAfter: Int?

    public init(status: Int, code: String, message: String, reason: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public static func badRequest(_ message: String, code: String = "InvalidParameterValue") -> FunctionError {
        FunctionError(status: 400, code: code, message: message)
    }

    public static func notFound(_ message: String, code: String = "ResourceNotFound") -> FunctionError {
        FunctionError(status: 404, code: code, message: message)
    }

    /// Lambda's answer to a call over the concurrency limit.
    public static func throttled(_ function: String, reserved: Bool) -> FunctionError {
        FunctionError(
            status: 429, code: "TooManyRequestsException",
            message: "Rate exceeded: \(function) is at its concurrency limit",
            reason: reserved
                ? "ReservedFunctionConcurrentInvocationLimitExceeded" : "ConcurrentInvocationLimitExceeded",
            retryAfter: 1)
    }

    public var headers: [(name: String, value: String)] { retryAfter.map { [("Retry-After", String($0))] } ?? [] }

    public var description: String { "\(status) \(code): \(message)" }
}
