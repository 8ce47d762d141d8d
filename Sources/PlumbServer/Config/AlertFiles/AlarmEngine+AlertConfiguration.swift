import PlumbAPI
import PlumbAlarms

extension AlarmEngine {
    /// Installs the alarms of the alert files, whose actions may notify the files' topics and `extraTopics` (those
    /// created through the API); all or nothing, as `install(_:now:topics:)`.
    public func install(
        _ config: AlertConfiguration, now: Int64, extraTopics: Set<String> = []
    ) async throws(AlertFileErrors) {
        try await install(
            config.alarmConfiguration, now: now, topics: Set(config.topics.map(\.name)).union(extraTopics))
    }
}
