import PlumbAPI
import PlumbAlarms
import PlumbLogs
import PlumbNotify

/// Everything the alert files declare: topics (PlumbNotify's), metric and composite alarms (PlumbAlarms') and metric
/// filters (PlumbLogs'), with where each was declared.
public struct AlertConfiguration: Sendable {
    public typealias Location = ConfigLocation

    public var topics: [TopicDefinition] = []
    public var alarms: [AlarmDefinition] = []
    /// Budgets (their alarms are in `alarms`).
    public var budgets: [Budget] = []
    public var metricFilters: [MetricFilter] = []
    public var metricFilterLocations: [String: Location] = [:]
    /// Alarm and topic names → (file, line) of their declaration.
    public var alarmLocations: [String: Location] = [:]
    public var topicLocations: [String: Location] = [:]

    public init() {}

    /// The alarms, as the alarm engine installs them.
    public var alarmConfiguration: AlarmConfiguration {
        get {
            var configuration = AlarmConfiguration(alarms: alarms, alarmLocations: alarmLocations)
            configuration.budgets = budgets
            return configuration
        }
        set {
            alarms = newValue.alarms
            budgets = newValue.budgets
            alarmLocations = newValue.alarmLocations
        }
    }

    public mutating func merge(_ other: AlertConfiguration) {
        topics += other.topics
        alarms += other.alarms
        budgets += other.budgets
        metricFilters += other.metricFilters
        metricFilterLocations.merge(other.metricFilterLocations) { first, _ in first }
        alarmLocations.merge(other.alarmLocations) { first, _ in first }
        topicLocations.merge(other.topicLocations) { first, _ in first }
    }

    /// Checks across files: unique topic and metric filter names, and the alarms' own checks (unique names, actions
    /// naming known topics, composite rules naming known alarms, no cycles). `extraAlarms`/`extraTopics` are names
    /// defined elsewhere (through the API).
    public func crossCheck(extraAlarms: Set<String> = [], extraTopics: Set<String> = []) -> [AlertFileError] {
        var errors: [AlertFileError] = []
        func at(_ location: Location?, _ field: String, _ message: String) {
            errors.append(
                AlertFileError(file: location?.file ?? "", line: location?.line ?? 0, field: field, message: message))
        }
        var seenTopics: Set<String> = []
        for topic in topics where !seenTopics.insert(topic.name).inserted {
            at(topicLocations[topic.name], "topics", "topic '\(topic.name)' is declared more than once")
        }
        let alarmErrors = alarmConfiguration.crossCheck(
            topics: Set(topics.map(\.name)).union(extraTopics), extraAlarms: extraAlarms)
        // In the order the checks always ran: topics, alarm names, metric filter names, then references.
        let (names, references) = (alarmErrors.filter { $0.field == "name" }, alarmErrors.filter { $0.field != "name" })
        errors += names
        var filterNames: Set<String> = []
        for filter in metricFilters where !filterNames.insert(filter.name).inserted {
            at(metricFilterLocations[filter.name], "name", "metric filter '\(filter.name)' is declared more than once")
        }
        return errors + references
    }
}
