/// The body of `PUT /api/v1/alarms/{name}`: one alarm as in an alert file (snake_case keys), in JSON or YAML.
///
/// What clients encode. The server reads the body with the alert-file parser, whose refusals name the line and
/// field (`request body:3: threshold: …`) and which refuses unknown keys; a document with `rule` is a composite
/// alarm, any other a metric alarm (on one series, or on `metrics`, metric math).
public struct AlarmDocument: Sendable, Equatable, Codable {
    /// Must equal the name in the path when given.
    public var name: String?
    public var description: String?
    public var severity: String?
    // Metric alarms on one series.
    public var namespace: String?
    public var metric: String?
    public var dimensions: [String: String]?
    /// `SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum` or `pNN`.
    public var statistic: String?
    /// Metric math instead of namespace, metric, dimensions and statistic: exactly one query returned.
    public var metrics: [MetricDataQuery]?
    // Metric alarms.
    /// Seconds: 10, 30 or a multiple of 60.
    public var period: Int?
    public var evaluationPeriods: Int?
    public var datapointsToAlarm: Int?
    /// `GreaterThanThreshold`, `GreaterThanOrEqualToThreshold`, `LessThanThreshold` or `LessThanOrEqualToThreshold`.
    public var comparison: String?
    public var threshold: Double?
    /// `missing`, `notBreaching`, `breaching` or `ignore`.
    public var treatMissingData: String?
    /// `evaluate` or `ignore`.
    public var evaluateLowSampleCountPercentile: String?
    // Composite alarms.
    /// `ALARM(a) AND NOT OK(b)`…
    public var rule: String?
    public var actionsSuppressor: String?
    public var waitPeriod: Int?
    public var extensionPeriod: Int?
    /// Topics notified on each state (at most 5 each).
    public var alarmActions: [String]?
    public var okActions: [String]?
    public var insufficientDataActions: [String]?
    /// False: the alarm evaluates and changes state but notifies no topic (CloudWatch's `ActionsEnabled`; true when
    /// absent).
    public var actionsEnabled: Bool?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, description, severity, namespace, metric, dimensions, statistic, metrics, period, comparison,
            threshold, rule
        case evaluationPeriods = "evaluation_periods"
        case datapointsToAlarm = "datapoints_to_alarm"
        case treatMissingData = "treat_missing_data"
        case evaluateLowSampleCountPercentile = "evaluate_low_sample_count_percentile"
        case actionsSuppressor = "actions_suppressor"
        case waitPeriod = "wait_period"
        case extensionPeriod = "extension_period"
        case alarmActions = "alarm_actions"
        case okActions = "ok_actions"
        case insufficientDataActions = "insufficient_data_actions"
        case actionsEnabled = "actions_enabled"
    }
}
