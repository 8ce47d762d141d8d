import Synchronization

/// `body`'s result, or `late()` thrown once `timeout` has passed.
///
/// It does not wait for a `body` that hangs (a query on a connection that died without a word, a pool still trying
/// to connect): that one is cancelled and left behind. A task group would wait for it before returning, so a leader
/// stuck in its check would go on believing it leads and a request would hang with its database. Cancelling the
/// caller cancels `body` and throws `CancellationError` at once.
func withDeadline<T: Sendable>(
    _ timeout: Duration, late: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.pending.withLock { $0 = continuation }
            race.adopt(
                Task {
                    let result: Result<T, any Error>
                    do { result = .success(try await body()) } catch { result = .failure(error) }
                    race.finish(with: result)
                })
            race.adopt(
                Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    race.finish(with: .failure(late()))
                })
            // Cancelled before the continuation was in place: the handler found nothing to resume.
            if Task.isCancelled { race.finish(with: .failure(CancellationError())) }
        }
    } onCancel: {
        race.finish(with: .failure(CancellationError()))
    }
}

/// A body and its timer racing to resume one continuation: the first wins, the other finds it gone; once it is
/// resumed both tasks are cancelled, also one adopted after that.
private final class Race<T: Sendable>: Sendable {
    let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
    private let state = Mutex<(tasks: [Task<Void, Never>], done: Bool)>(([], false))

    func adopt(_ task: Task<Void, Never>) {
        let done = state.withLock { s -> Bool in
            if !s.done { s.tasks.append(task) }
            return s.done
        }
        if done { task.cancel() }
    }

    func finish(with result: Result<T, any Error>) {
        pending.withLock { waiting in
            waiting?.resume(with: result)
            waiting = nil
        }
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.done = true
            defer { s.tasks = [] }
            return s.tasks
        }
        for task in tasks { task.cancel() }
    }
}
