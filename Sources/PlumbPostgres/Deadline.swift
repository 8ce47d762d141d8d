import Synchronization

/// `body`'s result, or `late()` thrown once `timeout` has passed.
///
/// It does not wait for a `body` that hangs (a query on a connection that died without a word, a pool still trying
/// to connect): that one is cancelled and left behind. A task group would wait for it before returning, so a leader
/// stuck in its check would go on believing it leads and a request would hang with its database.
func withDeadline<T: Sendable>(
    _ timeout: Duration, late: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.pending.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                race.timer.withLock { $0?.cancel() }
                race.finish(with: result)
            }
            race.work.withLock { $0 = work }
            let sleeper = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                race.finish(with: .failure(late()))
                work.cancel()
            }
            race.timer.withLock { $0 = sleeper }
        }
    } onCancel: {
        race.work.withLock { $0?.cancel() }
        race.timer.withLock { $0?.cancel() }
        race.finish(with: .failure(CancellationError()))
    }
}

/// A body and its timer racing to resume one continuation: the first wins, the other finds it gone.
private final class Race<T: Sendable>: Sendable {
    let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let timer = Mutex<Task<Void, Never>?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    func finish(with result: Result<T, any Error>) {
        pending.withLock { waiting in
            waiting?.resume(with: result)
            waiting = nil
        }
    }
}
