import Foundation
import PlumbAPI
import PlumbAlarms
import PlumbMetrics

// The alarms and silences API's wire types (PlumbAPI) made from the alarm engine's values.

extension AlarmDescription {
    /// The definition and state; the silence, which depends on the time, is the route's to add.
    init(_ s: AlarmEngine.Status) {
        let source: String =
            switch s.origin {
            case .file(let location): "file:\(location)"
            case .api: "api"
            }
        let actions = s.definition.actions
        self.init(
            name: s.definition.name, type: s.definition.kind, source: source, state: s.state.rawValue,
            stateReason: s.reason,
            stateUpdatedAt: TimeParsing.format(s.updatedAt), alarmActions: actions.alarm, okActions: actions.ok,
            insufficientDataActions: actions.insufficientData)
        stateReasonData = s.reasonData
        if !actions.enabled { actionsEnabled = false }
        lastEvaluatedAt = s.lastEvaluatedAt.map(TimeParsing.format)
        severity = s.definition.severity
        switch s.definition {
        case .metric(let a): describe(a)
        case .composite(let a):
            description = a.description
            rule = a.ruleText
            actionsSuppressor = a.actionsSuppressor
            if a.actionsSuppressor != nil {
                waitPeriod = a.waitPeriod
                extensionPeriod = a.extensionPeriod
            }
        }
    }

    private mutating func describe(_ a: MetricAlarm) {
        description = a.description
        period = a.period
        evaluationPeriods = a.evaluationPeriods
        datapointsToAlarm = a.datapointsToAlarm
        comparison = a.comparison.rawValue
        threshold = a.threshold
        treatMissingData = a.treatMissingData.rawValue
        evaluateLowSampleCountPercentile = a.evaluateLowSampleCountPercentile ? "evaluate" : "ignore"
        if let queries = a.metrics {
            metrics = queries.map(Self.line)
        } else {
            namespace = a.series.namespace
            metric = a.series.name
            dimensions = a.series.dimensionDictionary
            statistic = a.statistic.description
        }
    }

    /// A metric math query as one line: `e: Plumb/Functions/Errors Sum`, `rate: 100 * e / i (returned)`.
    static func line(_ q: MetricDataQuery) -> String {
        let what: String =
            switch q.source {
            case .expression(_, let text): text
            case .metric(let series, let stat):
                "\(series.namespace)/\(series.name)\(series.dimensionDictionary.isEmpty ? "" : "\(series.dimensionDictionary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })") \(stat.description)"
            }
        return "\(q.id): \(what)\(q.returnData ? " (returned)" : "")"
    }
}

extension AlarmHistoryResponse.Item {
    init(_ item: AlarmHistoryItem) {
        self.init(
            type: item.type, timestamp: TimeParsing.format(item.timestamp), summary: item.summary, data: item.data)
    }
}

extension SilenceDescription {
    /// The silence and its state at `now`.
    init(_ s: Silence, now: Int64) {
        let (alarm, match): (String?, String?) =
            if case .alarm(let name) = s.matcher { (name, nil) } else { (nil, s.matcher.text) }
        self.init(
            id: s.id, alarm: alarm, match: match, createdBy: s.createdBy, comment: s.comment,
            startsAt: TimeParsing.format(s.startsAt),
            endsAt: TimeParsing.format(s.endsAt), createdAt: TimeParsing.format(s.createdAt),
            state: s.state(at: now).rawValue,
            expiredBy: s.expiredBy)
    }
}

extension SilenceSummary {
    init(_ s: Silence) {
        self.init(id: s.id, until: TimeParsing.format(s.endsAt), createdBy: s.createdBy, comment: s.comment)
    }
}
