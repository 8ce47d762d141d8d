/// Where an item of a configuration document was declared, for messages that point at it (`file:line`).
public struct ConfigLocation: Sendable, Equatable {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}
