import Synchronization

/// A named latch: `wait()` suspends until `open()`; tests use it to hold invocations in flight.
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private static let registry = Mutex<[String: Gate]>([:])

    public static func named(_ name: String) -> Gate {
        registry.withLock { r in
            if let g = r[name] { return g }
            let g = Gate()
            r[name] = g
            return g
        }
    }

    public func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resume = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if resume { c.resume() }
        }
    }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    public var waiting: Int { state.withLock { $0.waiters.count } }
}
