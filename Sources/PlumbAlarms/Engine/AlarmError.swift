import PlumbAPI

/// An error of the alarms: a refused definition, state change or silence, or an alarm that does not exist: an HTTP status, a code and a message, shown by the server's error middleware as `ErrorBody`.
public struct AlarmError: HTTPResponseError, CustomStringConvertible {
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
