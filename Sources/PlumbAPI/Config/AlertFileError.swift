/// One problem in an alert file (or another configuration document), located by file, line and field:
/// `alerts/functions.yaml:12: alarms[0].period: …`.
public struct AlertFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        "\(file):\(line): \(field.isEmpty ? "" : field + ": ")\(message)"
    }
}
