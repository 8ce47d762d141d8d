/// The JSON `message` of an alarm's state-change notification, rendered richly by the email and Alertmanager
/// senders. Published with the attribute `event: alarm-state-change`.
public struct AlarmMessage: Sendable, Codable, Equatable {
    public struct Metric: Sendable, Codable, Equatable {
        public var namespace: String
        public var name: String
        public var dimensions: [String: String]
        public var statistic: String
        public var period: Int64

        public init(namespace: String, name: String, dimensions: [String: String], statistic: String, period: Int64) {
            self.namespace = namespace
            self.name = name
            self.dimensions = dimensions
            self.statistic = statistic
            self.period = period
        }
    }

    public var alarmName: String
    public var alarmDescription: String?
    /// "metric" or "composite".
    public var alarmType: String
    public var oldState: String
    public var newState: String
    public var reason: String
    /// RFC 3339 time of the state change.
    public var time: String
    public var metric: Metric?
    public var comparison: String?
    public var threshold: Double?
    public var evaluationPeriods: Int?
    public var datapointsToAlarm: Int?
    /// A composite's rule.
    public var rule: String?
    /// `<public_url>/api/v1/alarms/<name>`.
    public var url: String?
    /// The alarm's `severity` (free text such as `critical` or `warning`), the label Alertmanager routes on.
    public var severity: String?

    public init(
        alarmName: String, alarmDescription: String?, alarmType: String, oldState: String, newState: String,
        reason: String, time: String, metric: Metric? = nil, comparison: String? = nil, threshold: Double? = nil,
        evaluationPeriods: Int? = nil, datapointsToAlarm: Int? = nil, rule: String? = nil, url: String? = nil
    ) {
        self.alarmName = alarmName
        self.alarmDescription = alarmDescription
        self.alarmType = alarmType
        self.oldState = oldState
        self.newState = newState
        self.reason = reason
        self.time = time
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapointsToAlarm
        self.rule = rule
        self.url = url
    }

    /// The attribute that marks a notification as an alarm state change.
    public static let eventAttribute = "event"
    public static let eventValue = "alarm-state-change"
}
