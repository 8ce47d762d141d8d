/// Concurrent writes share flushes: a write waits for the first flush that starts after its import was answered
/// (the one running then may have missed it), and every write waiting meanwhile shares that next one.
actor FlushGroup {
    private let action: @Sendable () async throws -> Void
    private var generation = 0
    private var running: (id: Int, task: Task<Void, any Error>)?
    private var queued: (id: Int, task: Task<Void, any Error>)?

    init(_ action: @escaping @Sendable () async throws -> Void) { self.action = action }

    func flush() async throws {
        if let queued { return try await queued.task.value }
        generation += 1
        let id = generation
        let prior = running?.task
        let action = self.action
        let task = Task<Void, any Error> {
            if let prior { _ = await prior.result }
            // The task runs on this actor (it uses `self`): only `action` leaves it.
            self.begin(id)
            do {
                try await action()
                self.end(id)
            } catch {
                self.end(id)
                throw error
            }
        }
        if prior == nil { running = (id, task) } else { queued = (id, task) }
        try await task.value
    }

    private func begin(_ id: Int) {
        if let queued, queued.id == id {
            running = queued
            self.queued = nil
        }
    }

    private func end(_ id: Int) {
        if running?.id == id { running = nil }
    }
}
