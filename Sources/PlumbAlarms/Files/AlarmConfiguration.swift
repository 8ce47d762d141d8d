import PlumbAPI

/// The alarms the alert files declare (metric and composite, and the metric alarms of their budgets), with where
/// each was declared.
public struct AlarmConfiguration: Sendable {
    public var alarms: [AlarmDefinition] = []
    /// The budgets; their alarms are in `alarms`.
    public var budgets: [Budget] = []
    /// Alarm names → (file, line) of their declaration.
    public var alarmLocations: [String: ConfigLocation] = [:]

    public init(alarms: [AlarmDefinition] = [], alarmLocations: [String: ConfigLocation] = [:]) {
        self.alarms = alarms
        self.alarmLocations = alarmLocations
    }

    public mutating func merge(_ other: AlarmConfiguration) {
        alarms += other.alarms
        budgets += other.budgets
        alarmLocations.merge(other.alarmLocations) { first, _ in first }
    }

    /// Checks across files: unique names, actions naming known `topics`, composite rules naming known alarms, no
    /// cycles. `extraAlarms` are names defined elsewhere (through the API).
    public func crossCheck(topics: Set<String>, extraAlarms: Set<String> = []) -> [AlertFileError] {
        var errors: [AlertFileError] = []
        func at(_ location: ConfigLocation?, _ field: String, _ message: String) {
            errors.append(
                AlertFileError(file: location?.file ?? "", line: location?.line ?? 0, field: field, message: message))
        }
        var alarmNames: Set<String> = []
        var duplicates: [String] = []
        for alarm in alarms where !alarmNames.insert(alarm.name).inserted { duplicates.append(alarm.name) }
        var budgetNames: Set<String> = []
        for budget in budgets where !budgetNames.insert(budget.name).inserted {
            at(
                alarmLocations[budget.alarms.first?.name ?? ""], "name",
                "budget '\(budget.name)' is declared more than once")
        }
        for name in duplicates {
            at(alarmLocations[name], "name", "alarm '\(name)' is declared more than once")
        }
        for name in alarmNames where extraAlarms.contains(name) {
            at(
                alarmLocations[name], "name",
                "alarm '\(name)' already exists (created through the API); delete it there first")
        }
        let allAlarms = alarmNames.union(extraAlarms)
        var graph: [String: [String]] = [:]
        for alarm in alarms {
            let location = alarmLocations[alarm.name]
            for topic in alarm.actions.all where !topics.contains(topic) {
                at(location, "actions", "alarm '\(alarm.name)' notifies topic '\(topic)', which is not declared")
            }
            if case .composite(let composite) = alarm {
                for reference in composite.rule.references where !allAlarms.contains(reference) {
                    at(
                        location, "rule",
                        "composite alarm '\(alarm.name)' refers to alarm '\(reference)', which does not exist")
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
