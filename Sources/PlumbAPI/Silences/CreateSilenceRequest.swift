/// `POST /api/v1/silences`: silence one alarm (`alarm`) or every alarm a glob matches (`match`), exactly one of
/// them, for `duration`; the caller becomes its creator. Other fields are ignored.
public struct CreateSilenceRequest: Sendable, Equatable, Codable {
    public var alarm: String?
    public var match: String?
    /// `30m`, `2h`, `1d`… (at most 366 days).
    public var duration: String
    /// Why (required, one line).
    public var comment: String

    public init(alarm: String? = nil, match: String? = nil, duration: String, comment: String) {
        self.alarm = alarm
        self.match = match
        self.duration = duration
        self.comment = comment
    }
}
