/// A composite alarm: ALARM while its rule over other alarms' states is true, OK otherwise.
public struct CompositeAlarm: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The rule as written.
    public var ruleText: String
    public var rule: AlarmRule
    public var actions: AlarmActions
    /// While this alarm is in ALARM, the composite's actions are suppressed.
    public var actionsSuppressor: String?
    /// Seconds to wait for the suppressor to go into ALARM before acting.
    public var waitPeriod: Int64
    /// Seconds actions stay suppressed after the suppressor leaves ALARM.
    public var extensionPeriod: Int64
    /// Free text such as `critical` or `warning`, carried to Alertmanager as the `severity` label it routes on.
    public var severity: String?

    public init(
        name: String, description: String? = nil, rule: String, actions: AlarmActions = AlarmActions(),
        actionsSuppressor: String? = nil, waitPeriod: Int64 = 0, extensionPeriod: Int64 = 0
    ) throws(AlarmRuleError) {
        self.name = name
        self.description = description
        self.ruleText = rule
        self.rule = try AlarmRule.parse(rule)
        self.actions = actions
        self.actionsSuppressor = actionsSuppressor
        self.waitPeriod = waitPeriod
        self.extensionPeriod = extensionPeriod
    }
}

/// Either kind of alarm.
public enum AlarmDefinition: Sendable, Equatable {
    case metric(MetricAlarm)
    case composite(CompositeAlarm)

    public var name: String {
        switch self {
        case .metric(let a): a.name
        case .composite(let a): a.name
        }
    }

    public var actions: AlarmActions {
        switch self {
        case .metric(let a): a.actions
        case .composite(let a): a.actions
        }
    }

    public var severity: String? {
        switch self {
        case .metric(let a): a.severity
        case .composite(let a): a.severity
        }
    }

    public var kind: String {
        switch self {
        case .metric: "metric"
        case .composite: "composite"
        }
    }
}
