/// Where an alarm's actions go: the topics its transitions notify.
///
/// The engine knows topics only by name; the server implements this with its outbox (and the alarm page's links and
/// charts), and tests with a recorder.
public protocol AlarmNotifier: Sendable {
    /// Whether a topic exists, for alarms created through the API (their actions must name existing topics).
    /// Throws when that cannot be known now (a shared store that is unavailable).
    func topicExists(_ name: String) async throws -> Bool
    /// Publishes the transition's notification to each of its topics; one outcome per topic, for the history.
    func notify(_ transition: AlarmTransition) async -> [AlarmEngine.ActionOutcome]
}
