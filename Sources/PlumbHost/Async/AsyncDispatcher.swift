/// Drives the async queue one step at a time: invokes every due event and records the outcome; events that fail
/// for good go to `onFailure` (in a server, `AsyncFailureDestination`: the function's on-failure topic). A `Service` calls `runDue` in a loop; tests call it
/// with an injected clock.
public struct AsyncDispatcher: Sendable {
    public let queue: any AsyncEventStoring
    public let settings: @Sendable (String) -> AsyncEventQueue.Settings
    public let invoke: @Sendable (AsyncEventQueue.Event) async -> AsyncEventQueue.Outcome
    public let onFailure: @Sendable (AsyncEventQueue.Event, String) async -> Void

    public init(
        queue: any AsyncEventStoring, settings: @escaping @Sendable (String) -> AsyncEventQueue.Settings,
        invoke: @escaping @Sendable (AsyncEventQueue.Event) async -> AsyncEventQueue.Outcome,
        onFailure: @escaping @Sendable (AsyncEventQueue.Event, String) async -> Void
    ) {
        self.queue = queue
        self.settings = settings
        self.invoke = invoke
        self.onFailure = onFailure
    }

    /// The dispatcher of a plugin host: events run through `host`'s invocation pipeline, each function's retries
    /// follow its `configs` entry (the defaults without one), and events that fail for good go to `failures`.
    public init(
        queue: any AsyncEventStoring, host: PluginHost, configs: [String: AsyncInvocationConfig],
        failures: AsyncFailureDestination
    ) {
        self.init(
            queue: queue, settings: { configs[$0]?.retry ?? AsyncEventQueue.Settings() },
            invoke: { event in await host.invokeAsyncEvent(event) },
            onFailure: { event, reason in await failures.deliver(event, reason: reason) })
    }

    /// Runs the events due at `now`, up to `limit`; returns how many were attempted. Each is taken from the queue
    /// just before it runs (a shared queue claims it then), so a long invocation never outlives the claim of an
    /// event still waiting behind it, and other nodes take the rest meanwhile.
    @discardableResult
    public func runDue(now: Double, limit: Int = 100) async throws -> Int {
        var attempted = 0
        while attempted < limit, let event = try await queue.due(now: now, limit: 1).first {
            attempted += 1
            let outcome = await invoke(event)
            let disposition = try await queue.complete(
                event, outcome: outcome, now: now, settings: settings(event.function))
            if case .failed(let reason) = disposition { await onFailure(event, reason) }
        }
        return attempted
    }
}
