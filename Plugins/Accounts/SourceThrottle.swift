import Foundation
import Synchronization

/// Attempts per source address in a sliding window: sign-ins (60 s) and sign-ups (an hour), each its own throttle.
final class SourceThrottle: Sendable {
    let limit: Int
    /// Seconds an attempt counts against its source.
    let window: Double
    private let attempts = Mutex<[String: [Double]]>([:])

    init(limit: Int, window: Double = 60) {
        self.limit = limit
        self.window = window
    }

    func allow(_ source: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        wait(source, now: now) == nil
    }

    /// Records an attempt and returns nil, or, when the source is at its limit, the whole seconds until its oldest
    /// attempt leaves the window (what `Retry-After` says).
    func wait(_ source: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        let window = self.window
        return attempts.withLock { a -> Int? in
            var times = (a[source] ?? []).filter { $0 > now - window }
            guard times.count < limit else {
                a[source] = times
                // A limit of 0 (sign-ups closed) has no oldest attempt: the whole window.
                return max(1, Int(((times.first ?? now) + window - now).rounded(.up)))
            }
            times.append(now)
            a[source] = times
            if a.count > 100_000 { a = a.filter { !$0.value.isEmpty && $0.value.last! > now - window } }
            return nil
        }
    }
}
