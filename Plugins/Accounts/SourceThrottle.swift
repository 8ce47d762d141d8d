import Foundation
import Synchronization

/// Sign-in attempts per source address per minute (a sliding count of the last 60 s).
final class SourceThrottle: Sendable {
    let limit: Int
    private let attempts = Mutex<[String: [Double]]>([:])

    init(limit: Int) { self.limit = limit }

    func allow(_ source: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        attempts.withLock { a in
            var times = (a[source] ?? []).filter { $0 > now - 60 }
            guard times.count < limit else {
                a[source] = times
                return false
            }
            times.append(now)
            a[source] = times
            if a.count > 100_000 { a = a.filter { !$0.value.isEmpty && $0.value.last! > now - 60 } }
            return true
        }
    }
}
