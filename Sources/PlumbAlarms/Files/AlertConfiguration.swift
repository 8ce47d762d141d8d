import PlumbLogs
import PlumbNotify

/// Everything the alert files declare: topics, metric alarms and composite alarms, with where each was declared.
public struct AlertConfiguration: Sendable {
    public var topics: [TopicDefinition] = []
    public var alarms: [AlarmDefinition] = []
    public var metricFilters: [MetricFilter] = []
    public var metricFilterLocations: [String: Location] = [:]
    /// Alarm and topic names → (file, line) of their declaration.
    public var alarmLocations: [String: Location] = [:]
    public var topicLocations: [String: Location] = [:]

    public struct Location: Sendable, Equatable {
        public var file: String
        public var line: Int
    }

    public init() {}

    public mutating func merge(_ other: AlertConfiguration) {
        topics += other.topics
        alarms += other.alarms
        metricFilters += other.metricFilters
        metricFilterLocations.merge(other.metricFilterLocations) { first, _ in first }
        alarmLocations.merge(other.alarmLocations) { first, _ in first }
        topicLocations.merge(other.topicLocations) { first, _ in first }
    }

    /// Checks across files: unique names, actions naming known topics, composite rules naming known alarms,
    /// no cycles. `extraAlarms`/`extraTopics` are names defined elsewhere (through the API).
    public func crossCheck(extraAlarms: Set<String> = [], extraTopics: Set<String> = []) -> [AlertFileError] {
        var errors: [AlertFileError] = []
        func at(_ location: Location?, _ field: String, _ message: String) {
            errors.append(AlertFileError(file: location?.file ?? "", line: location?.line ?? 0, field: field, message: message))
        }
        var seenTopics: [String: Location] = [:]
        for topic in topics {
            let location = topicLocations[topic.name]
            if seenTopics[topic.name] != nil {
                at(location, "topics", "topic '\(topic.name)' is declared more than once")
            }
            seenTopics[topic.name] = location
        }
        var alarmNames: Set<String> = []
        var duplicates: [String] = []
        for alarm in alarms where !alarmNames.insert(alarm.name).inserted { duplicates.append(alarm.name) }
        for name in duplicates {
            at(alarmLocations[name], "name", "alarm '\(name)' is declared more than once")
        }
        for name in alarmNames where extraAlarms.contains(name) {
            at(alarmLocations[name], "name", "alarm '\(name)' already exists (created through the API); delete it there first")
        }
        var filterNames: Set<String> = []
        for filter in metricFilters where !filterNames.insert(filter.name).inserted {
            at(metricFilterLocations[filter.name], "name", "metric filter '\(filter.name)' is declared more than once")
        }
        let topicNames = Set(topics.map(\.name)).union(extraTopics)
        let allAlarms = alarmNames.union(extraAlarms)
        var graph: [String: [String]] = [:]
        for alarm in alarms {
            let location = alarmLocations[alarm.name]
            for topic in alarm.actions.all where !topicNames.contains(topic) {
                at(location, "actions", "alarm '\(alarm.name)' notifies topic '\(topic)', which is not declared")
            }
            if case .composite(let composite) = alarm {
                for reference in composite.rule.references where !allAlarms.contains(reference) {
                    at(location, "rule", "composite alarm '\(alarm.name)' refers to alarm '\(reference)', which does not exist")
                }
                if let suppressor = composite.actionsSuppressor, !allAlarms.contains(suppressor) {
                    at(location, "actions_suppressor", "alarm '\(suppressor)' does not exist")
                }
                graph[composite.name] = composite.rule.references
            }
        }
        if let cycle = AlarmGraph.cycle(in: graph) {
            at(alarmLocations[cycle[0]], "rule", "composite alarms form a cycle: \(cycle.joined(separator: " → "))")
        }
        return errors
    }
}
