/// The answer of `POST /api/v1/alarms/reload`: what the alert files now declare. A reload refused for errors in
/// the files is an `ErrorBody` with code `InvalidAlertFiles` and each problem (file, line, field) in `errors`.
public struct ReloadAlarmsResponse: Sendable, Equatable, Codable {
    public var alarms: Int
    public var topics: Int

    public init(alarms: Int, topics: Int) {
        self.alarms = alarms
        self.topics = topics
    }
}
