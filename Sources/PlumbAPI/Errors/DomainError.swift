/// The error of one domain: a type of its own per domain (`AlarmError` is `DomainError<AlarmErrorDomain>`), so a
/// domain's errors can be told apart and extended, with one implementation. The server's error middleware shows any
/// of them as `ErrorBody`.
public struct DomainError<Domain: ErrorDomain>: HTTPResponseError, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Extra response headers (`Retry-After` when a shared store is unavailable).
    public var headers: [(name: String, value: String)] = []

    public init(status: Int = 400, code: String = "InvalidParameterValue", _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// A store that failed under a request: its own answer when it has one (a shared store that is unavailable is a
    /// 503 with `Retry-After`), else a 500 saying what could not be done.
    public static func storeFailed(_ what: String, _ error: any Error) -> Self {
        if let error = error as? any HTTPResponseError, error.status >= 500 {
            var mapped = Self(status: error.status, code: error.code, "\(what): \(error.message)")
            mapped.headers = error.headers
            return mapped
        }
        return Self(status: 500, code: "InternalFailure", "\(what): \(error)")
    }

    public var description: String { message }
}

/// Names a domain for `DomainError`: an empty enum in the domain's target.
public protocol ErrorDomain: Sendable {}
