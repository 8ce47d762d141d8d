/// An `AlarmNotifier` made of two closures: for tests and tools that watch transitions without an outbox.
public struct ClosureAlarmNotifier: AlarmNotifier {
    let exists: @Sendable (String) -> Bool
    let run: @Sendable (AlarmTransition) async -> [AlarmEngine.ActionOutcome]

    /// The defaults: every topic exists, and a transition notifies nothing.
    public init(
        topicExists: @escaping @Sendable (String) -> Bool = { _ in true },
        notify: @escaping @Sendable (AlarmTransition) async -> [AlarmEngine.ActionOutcome] = { _ in [] }
    ) {
        self.exists = topicExists
        self.run = notify
    }

    public func topicExists(_ name: String) -> Bool { exists(name) }

    public func notify(_ transition: AlarmTransition) async -> [AlarmEngine.ActionOutcome] { await run(transition) }
}
