/// An error a function throws on purpose: the host answers with `status` and the JSON error shape
/// `{"error": {"code", "message"}}`. A 4xx is the caller's fault and does not count in `Errors`.
public struct FunctionError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func badRequest(_ message: String) -> FunctionError {
        FunctionError(status: 400, code: "InvalidParameterValue", message: message)
    }

    public static func notFound(_ message: String) -> FunctionError {
        FunctionError(status: 404, code: "ResourceNotFound", message: message)
    }

    public var description: String { "\(status) \(code): \(message)" }
}
