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

    /// One query of a metric-math alarm (CloudWatch's `Trigger.Metrics`): a metric's statistic or an expression
    /// over other ids; `returned` marks the one the alarm watches.
    public struct Query: Sendable, Codable, Equatable {
        public var id: String
        public var label: String?
        /// The metric and its statistic; nil for an expression.
        public var metric: Metric?
        public var expression: String?
        public var returned: Bool

        public init(id: String, label: String? = nil, metric: Metric? = nil, expression: String? = nil, returned: Bool)
        {
            self.id = id
            self.label = label
            self.metric = metric
            self.expression = expression
            self.returned = returned
        }
    }

    /// One period of the chart the notification carries: the watched value (nil when the period had no data) and
    /// whether it is beyond the threshold, so that a renderer draws the breach without knowing the comparison.
    public struct Datapoint: Sendable, Codable, Equatable {
        /// RFC 3339 start of the period.
        public var timestamp: String
        public var value: Double?
        public var breaching: Bool
        /// Whether the period is in the evaluation range (N + 2 periods) of the evaluation that changed the state.
        public var evaluated: Bool

        public init(timestamp: String, value: Double?, breaching: Bool, evaluated: Bool) {
            self.timestamp = timestamp
            self.value = value
            self.breaching = breaching
            self.evaluated = evaluated
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
    /// The alarm page: `<public_url>/alarms/<name>?exp=…&sig=…`, a signed read-only link that needs no token.
    public var url: String?
    /// The alarm's `severity` (free text such as `critical` or `warning`), the label Alertmanager routes on.
    public var severity: String?
    /// RFC 3339 time after which `url` is refused.
    public var urlExpires: String?
    /// Seconds per period of a metric alarm (single metric or metric math).
    public var period: Int64?
    /// A metric-math alarm's queries (then `metric` is nil: there is no single metric).
    public var metrics: [Query]?
    /// The watched values over the chart window ending at the evaluation, oldest first.
    public var datapoints: [Datapoint]?

    public init(
        alarmName: String, alarmDescription: String?, alarmType: String, oldState: String, newState: String,
        reason: String, time: String, metric: Metric? = nil, comparison: String? = nil, threshold: Double? = nil,
        evaluationPeriods: Int? = nil, datapointsToAlarm: Int? = nil, rule: String? = nil, url: String? = nil,
        period: Int64? = nil, metrics: [Query]? = nil, datapoints: [Datapoint]? = nil
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
        self.period = period
        self.metrics = metrics
        self.datapoints = datapoints
    }

    /// The attribute that marks a notification as an alarm state change.
    public static let eventAttribute = "event"
    public static let eventValue = "alarm-state-change"
}
