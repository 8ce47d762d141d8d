/// `POST /api/v1/alarms/{name}/state` (CloudWatch SetAlarmState): the state holds until the next evaluation.
/// Other fields are ignored.
public struct SetAlarmStateRequest: Sendable, Equatable, Codable {
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    public var state: String
    /// Kept in the history.
    public var reason: String
    /// JSON text, kept as the state reason data.
    public var reasonData: String?

    public init(state: String, reason: String, reasonData: String? = nil) {
        self.state = state
        self.reason = reason
        self.reasonData = reasonData
    }

    enum CodingKeys: String, CodingKey {
        case state, reason
        case reasonData = "reason_data"
    }
}
