/// An alarm API error with an HTTP status and a CloudWatch-like code.
public struct AlarmError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func notFound(_ name: String) -> AlarmError {
        AlarmError(status: 404, code: "ResourceNotFound", "no alarm named '\(name)'")
    }
}
