import PlumbAPI
import PlumbMetrics

/// A metric alarm: one statistic of one series, compared with a static threshold over M of the last N periods.
public struct MetricAlarm: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var series: SeriesKey
    public var statistic: Statistic
    /// Seconds: 10, 30 or a multiple of 60.
    public var period: Int64
    /// N.
    public var evaluationPeriods: Int
    /// M (defaults to N).
    public var datapointsToAlarm: Int
    public var comparison: ComparisonOperator
    public var threshold: Double
    public var treatMissingData: TreatMissingData
    /// For percentile statistics: `false` keeps the state while a period has too few samples
    /// (CloudWatch's `EvaluateLowSampleCountPercentile: ignore`).
    public var evaluateLowSampleCountPercentile: Bool
    public var actions: AlarmActions
    /// Metric math instead of one series (CloudWatch's `Metrics`): the alarm watches the one query with
    /// `return: true`; `series` is then a placeholder (`Plumb/MetricMath`, the alarm's name).
    public var metrics: [MetricDataQuery]?
    /// Free text such as `critical` or `warning`, carried to Alertmanager as the `severity` label it routes on.
    public var severity: String?

    public init(
        name: String, description: String? = nil, series: SeriesKey, statistic: Statistic, period: Int64,
        evaluationPeriods: Int, datapointsToAlarm: Int? = nil, comparison: ComparisonOperator, threshold: Double,
        treatMissingData: TreatMissingData = .missing, evaluateLowSampleCountPercentile: Bool = true,
        actions: AlarmActions = AlarmActions()
    ) {
        self.name = name
        self.description = description
        self.series = series
        self.statistic = statistic
        self.period = period
        self.evaluationPeriods = evaluationPeriods
        self.datapointsToAlarm = datapointsToAlarm ?? evaluationPeriods
        self.comparison = comparison
        self.threshold = threshold
        self.treatMissingData = treatMissingData
        self.evaluateLowSampleCountPercentile = evaluateLowSampleCountPercentile
        self.actions = actions
    }

    /// How many periods are fetched for one evaluation: N plus two older ones, so that a few missing
    /// periods can be bridged with real data (CloudWatch's "evaluation range"; its documented examples use
    /// five points for N = 3).
    public var evaluationRange: Int { evaluationPeriods + 2 }

    /// Seconds between evaluations: 10 s for periods under a minute, else 60 s.
    public var evaluationInterval: Int64 { period < 60 ? 10 : 60 }

    /// The sample count under which a percentile is "low sample count": 10/(1−p) for p ≥ 0.5, else 10/p.
    public var lowSampleCountLimit: Double? {
        guard case .percentile(let p) = statistic else { return nil }
        let fraction = p / 100
        return fraction >= 0.5 ? (fraction >= 1 ? .infinity : 10 / (1 - fraction)) : 10 / fraction
    }
}

/// Topics notified on transitions into each state (CloudWatch's AlarmActions, OKActions, InsufficientDataActions).
public struct AlarmActions: Sendable, Equatable {
    public var alarm: [String] = []
    public var ok: [String] = []
    public var insufficientData: [String] = []
    /// CloudWatch's `ActionsEnabled`: when false the alarm still evaluates, changes state and keeps its history, but
    /// notifies no topic (DisableAlarmActions, or `actions_enabled: false` in its document).
    public var enabled = true

    public init(alarm: [String] = [], ok: [String] = [], insufficientData: [String] = [], enabled: Bool = true) {
        self.alarm = alarm
        self.ok = ok
        self.insufficientData = insufficientData
        self.enabled = enabled
    }

    /// The topics a transition into `state` notifies: none while actions are disabled.
    public func topics(for state: AlarmState) -> [String] {
        guard enabled else { return [] }
        return switch state {
        case .alarm: alarm
        case .ok: ok
        case .insufficientData: insufficientData
        }
    }

    public var all: [String] { alarm + ok + insufficientData }
}
