/// Where Lambda's asynchronous invocation queue and the schedules' last runs are kept: the embedded SQLite file
/// (`AsyncEventQueue`, the default) or PostgreSQL, shared by the nodes of a cluster, where any node runs a due
/// event and `due` claims the events it returns so no other node runs them meanwhile.
///
/// An accepted event is stored before `enqueue` returns, and stays until it succeeded or failed for good. Every
/// backend passes the same conformance suite (`AsyncEventStoreConformanceTests`). Times are epoch seconds.
public protocol AsyncEventStoring: Sendable {
    /// Persists an event; it is due at once. Returns its id.
    @discardableResult
    func enqueue(function: String, payload: [UInt8], now: Double) async throws -> Int64
    /// When a scheduled function last ran (epoch seconds), if ever.
    func lastScheduledRun(of function: String) async throws -> Int64?
    func recordScheduledRun(of function: String, at time: Int64) async throws
    /// The schedule rules made through the EventBridge API: name → its document (JSON, as `ScheduleRule` writes it).
    func scheduleRules() async throws -> [String: String]
    /// Stores a rule's document, or deletes the rule (`nil`).
    func putScheduleRule(name: String, document: String?) async throws
    /// Pending events due at `now`, oldest first. A shared store claims them for this node for
    /// `AsyncEventQueue.claimDuration` (longer than any invocation may take): another node gets them only after
    /// `complete` or once the claim lapses (the node died mid-run; Lambda's async invocations are at least once too).
    func due(now: Double, limit: Int) async throws -> [AsyncEventQueue.Event]
    func event(id: Int64) async throws -> AsyncEventQueue.Event?
    /// Newest first, optionally only those with `status` (`pending`, `succeeded`, `failed`).
    func events(status: String?, limit: Int) async throws -> [AsyncEventQueue.Event]
    /// Records an attempt and its disposition (`AsyncEventQueue.disposition`) in one transaction.
    @discardableResult
    func complete(
        _ event: AsyncEventQueue.Event, outcome: AsyncEventQueue.Outcome, now: Double,
        settings: AsyncEventQueue.Settings
    ) async throws -> AsyncEventQueue.Disposition
}

extension AsyncEventStoring {
    public func due(now: Double) async throws -> [AsyncEventQueue.Event] { try await due(now: now, limit: 100) }
    public func events(status: String? = nil) async throws -> [AsyncEventQueue.Event] {
        try await events(status: status, limit: 100)
    }
}

extension AsyncEventQueue: AsyncEventStoring {}
