import Foundation

/// Waits until `condition` holds, checking it every `interval`; throws a `TestFailure` naming `what` when it still
/// does not hold after `timeout`. Tests wait for what they need this way instead of sleeping "long enough".
public func waitUntil(
    _ what: String = "the condition", timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    _ = try await waitFor(what, timeout: timeout, every: interval) { try await condition() ? true : nil }
}

/// Waits until `probe` returns a value and returns it, checking every `interval`; throws a `TestFailure` naming
/// `what` when it has returned nil until `timeout`.
public func waitFor<T>(
    _ what: String, timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else {
            throw TestFailure("timed out after \(timeout) waiting for \(what)")
        }
        try await Task.sleep(for: interval)
    }
}
