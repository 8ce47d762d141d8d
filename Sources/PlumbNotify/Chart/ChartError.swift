/// A chart that cannot be drawn (a picture size out of range).
public struct ChartError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
