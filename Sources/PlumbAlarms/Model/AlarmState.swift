/// The three states of a CloudWatch alarm.
public enum AlarmState: String, Sendable, Codable, CaseIterable {
    case ok = "OK"
    case alarm = "ALARM"
    case insufficientData = "INSUFFICIENT_DATA"
}
