/// Every error answer of Plumb's API: `{"error": {"code", "message", "reason"?}, "errors"?: [...]}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var reason: String?

        public init(code: String, message: String, reason: String? = nil) {
            self.code = code
            self.message = message
            self.reason = reason
        }
    }

    /// One problem of a list, located in a file when it comes from one (`alerts/x.yaml:12: period: …`).
    public struct Problem: Codable, Sendable, Equatable, CustomStringConvertible {
        public var file: String?
        public var line: Int?
        public var field: String?
        public var message: String

        public init(file: String? = nil, line: Int? = nil, field: String? = nil, message: String) {
            self.file = file
            self.line = line
            self.field = field
            self.message = message
        }

        public var description: String {
            let place = [file, line.map(String.init)].compactMap { $0 }.joined(separator: ":")
            let prefix = place.isEmpty ? "" : place + ": "
            return prefix + (field.map { $0.isEmpty ? "" : $0 + ": " } ?? "") + message
        }
    }

    public var error: Detail
    public var errors: [Problem]?

    public init(error: Detail, errors: [Problem]? = nil) {
        self.error = error
        self.errors = errors
    }
}
