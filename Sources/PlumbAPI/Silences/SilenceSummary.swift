/// The silence holding an alarm, inside the alarm's description: what `plumb alarms` prints as "silenced until
/// … by … (comment)".
public struct SilenceSummary: Sendable, Equatable, Codable {
    public var id: String
    /// RFC 3339 (UTC) end of the silence.
    public var until: String
    public var createdBy: String
    public var comment: String

    public init(id: String, until: String, createdBy: String, comment: String) {
        self.id = id
        self.until = until
        self.createdBy = createdBy
        self.comment = comment
    }
}
