/// Problems found while loading alert files; loading goes on after each so that every error is reported.
public struct AlertFileErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [AlertFileError]
    public init(_ errors: [AlertFileError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
