/// The error of one domain: a type of its own per domain (`AlarmError` is `DomainError<AlarmErrorDomain>`), so a
/// domain's errors can be told apart and extended, with one implementation. The server's error middleware shows any
/// of them as `ErrorBody`.
public struct DomainError<Domain: ErrorDomain>: HTTPResponseError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Names a domain for `DomainError`: an empty enum in the domain's target.
public protocol ErrorDomain: Sendable {}
