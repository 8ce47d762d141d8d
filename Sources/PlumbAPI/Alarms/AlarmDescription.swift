/// One alarm as the API shows it (`GET /api/v1/alarms`, `GET/PUT /api/v1/alarms/{name}`, set-state): definition,
/// state and the silence holding its notifications. Members of the other kind of alarm are absent.
public struct AlarmDescription: Sendable, Equatable, Codable {
    public var name: String
    /// `metric` or `composite`.
    public var type: String
    /// `file:PATH:LINE` (declared in an alert file) or `api`.
    public var source: String
    public var description: String?
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    public var state: String
    public var stateReason: String
    /// JSON text (CloudWatch's StateReasonData): free-form, written by the evaluator or by whoever set the state.
    public var stateReasonData: String?
    /// RFC 3339 (UTC).
    public var stateUpdatedAt: String
    public var lastEvaluatedAt: String?
    public var alarmActions: [String]
    public var okActions: [String]
    public var insufficientDataActions: [String]
    /// False while the alarm's actions are disabled: it changes state but notifies no topic. Absent means true.
    public var actionsEnabled: Bool?
    public var severity: String?
    /// The active silence holding the alarm's notifications, if any.
    public var silence: SilenceSummary?
    // Metric alarms on one series.
    public var namespace: String?
    public var metric: String?
    public var dimensions: [String: String]?
    public var statistic: String?
    // Metric alarms.
    public var period: Int64?
    public var evaluationPeriods: Int?
    public var datapointsToAlarm: Int?
    public var comparison: String?
    public var threshold: Double?
    public var treatMissingData: String?
    /// `evaluate` or `ignore`.
    public var evaluateLowSampleCountPercentile: String?
    /// Metric math alarms: each query as `id: expression` or `id: Namespace/Metric{dims} Stat`, the watched one
    /// marked `(returned)`.
    public var metrics: [String]?
    // Composite alarms.
    public var rule: String?
    public var actionsSuppressor: String?
    public var waitPeriod: Int64?
    public var extensionPeriod: Int64?

    public init(
        name: String, type: String, source: String, state: String, stateReason: String, stateUpdatedAt: String,
        alarmActions: [String] = [], okActions: [String] = [], insufficientDataActions: [String] = []
    ) {
        self.name = name
        self.type = type
        self.source = source
        self.state = state
        self.stateReason = stateReason
        self.stateUpdatedAt = stateUpdatedAt
        self.alarmActions = alarmActions
        self.okActions = okActions
        self.insufficientDataActions = insufficientDataActions
    }

    enum CodingKeys: String, CodingKey {
        case name, type, source, description, state, stateReason, stateReasonData, stateUpdatedAt, lastEvaluatedAt,
            alarmActions,
            okActions, insufficientDataActions, actionsEnabled, severity, silence, namespace, metric, dimensions,
            statistic, period,
            evaluationPeriods,
            datapointsToAlarm, comparison, threshold, treatMissingData, evaluateLowSampleCountPercentile, metrics, rule,
            actionsSuppressor, waitPeriod, extensionPeriod
    }

    /// Lenient: beyond `name` and `state`, a member the answer lacks reads as empty, so that a display (a dashboard's
    /// alarms widget) reads what it needs from any server that sends it.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) throws -> String? { try c.decodeIfPresent(String.self, forKey: key) }
        func list(_ key: CodingKeys) throws -> [String] { try c.decodeIfPresent([String].self, forKey: key) ?? [] }
        self.init(
            name: try c.decode(String.self, forKey: .name), type: try text(.type) ?? "",
            source: try text(.source) ?? "",
            state: try c.decode(String.self, forKey: .state), stateReason: try text(.stateReason) ?? "",
            stateUpdatedAt: try text(.stateUpdatedAt) ?? "", alarmActions: try list(.alarmActions),
            okActions: try list(.okActions),
            insufficientDataActions: try list(.insufficientDataActions))
        description = try text(.description)
        stateReasonData = try text(.stateReasonData)
        lastEvaluatedAt = try text(.lastEvaluatedAt)
        actionsEnabled = try c.decodeIfPresent(Bool.self, forKey: .actionsEnabled)
        severity = try text(.severity)
        silence = try c.decodeIfPresent(SilenceSummary.self, forKey: .silence)
        namespace = try text(.namespace)
        metric = try text(.metric)
        dimensions = try c.decodeIfPresent([String: String].self, forKey: .dimensions)
        statistic = try text(.statistic)
        period = try c.decodeIfPresent(Int64.self, forKey: .period)
        evaluationPeriods = try c.decodeIfPresent(Int.self, forKey: .evaluationPeriods)
        datapointsToAlarm = try c.decodeIfPresent(Int.self, forKey: .datapointsToAlarm)
        comparison = try text(.comparison)
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold)
        treatMissingData = try text(.treatMissingData)
        evaluateLowSampleCountPercentile = try text(.evaluateLowSampleCountPercentile)
        metrics = try c.decodeIfPresent([String].self, forKey: .metrics)
        rule = try text(.rule)
        actionsSuppressor = try text(.actionsSuppressor)
        waitPeriod = try c.decodeIfPresent(Int64.self, forKey: .waitPeriod)
        extensionPeriod = try c.decodeIfPresent(Int64.self, forKey: .extensionPeriod)
    }
}

/// The answer of `GET /api/v1/alarms`.
public struct AlarmListResponse: Sendable, Equatable, Codable {
    public var alarms: [AlarmDescription]

    public init(alarms: [AlarmDescription]) {
        self.alarms = alarms
    }
}
