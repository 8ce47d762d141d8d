import PlumbKit
import Synchronization

/// Lambda's admission control: an account-wide concurrency limit shared by every function, part of which
/// functions can reserve for themselves.
///
/// A function with reserved concurrency R runs at most R at once and never competes for the rest; the
/// functions without a reservation share the unreserved pool, `accountLimit − Σ reserved`. Reserving 0
/// throttles every call (Lambda's way to switch a function off). A reservation that would leave the
/// unreserved pool below `minimumUnreserved` is refused, as Lambda keeps 100 unreserved.
public final class ConcurrencyLimiter: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var accountLimit: Int
        public var unreservedLimit: Int
        public var inFlight: Int
        public var unreservedInFlight: Int
    }

    private struct State {
        var accountLimit: Int
        var reserved: [String: Int] = [:]
        var inFlight: [String: Int] = [:]
        var unreservedInFlight = 0
        var totalInFlight = 0

        var reservedTotal: Int { reserved.values.reduce(0, +) }
    }

    private let state: Mutex<State>
    public let minimumUnreserved: Int

    public init(accountLimit: Int, minimumUnreserved: Int? = nil) {
        state = Mutex(State(accountLimit: accountLimit))
        self.minimumUnreserved = minimumUnreserved ?? min(100, accountLimit / 10)
    }

    /// Concurrency right after an admission or a release, read under the same lock.
    public struct Counts: Sendable, Equatable {
        public var function: Int
        public var account: Int
        public var unreserved: Int
    }

    /// Tries to admit one invocation of `function`; nil means throttle.
    public func acquire(_ function: String) -> Counts? {
        state.withLock { s -> Counts? in
            let current = s.inFlight[function, default: 0]
            if let reserved = s.reserved[function] {
                guard current < reserved else { return nil }
            } else {
                guard s.unreservedInFlight < s.accountLimit - s.reservedTotal else { return nil }
                s.unreservedInFlight += 1
            }
            s.inFlight[function] = current + 1
            s.totalInFlight += 1
            return Counts(function: current + 1, account: s.totalInFlight, unreserved: s.unreservedInFlight)
        }
    }

    /// Ends one admitted invocation of `function`.
    @discardableResult
    public func release(_ function: String) -> Counts {
        state.withLock { s in
            let now = s.inFlight[function, default: 1] - 1
            s.inFlight[function] = now
            s.totalInFlight -= 1
            if s.reserved[function] == nil { s.unreservedInFlight -= 1 }
            return Counts(function: now, account: s.totalInFlight, unreserved: s.unreservedInFlight)
        }
    }

    public func inFlight(_ function: String) -> Int {
        state.withLock { $0.inFlight[function, default: 0] }
    }

    public func reserved(_ function: String) -> Int? {
        state.withLock { $0.reserved[function] }
    }

    public var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(
                accountLimit: s.accountLimit, unreservedLimit: s.accountLimit - s.reservedTotal,
                inFlight: s.totalInFlight, unreservedInFlight: s.unreservedInFlight)
        }
    }

    /// Sets (or with nil clears) the reserved concurrency of `function`.
    ///
    /// Invocations already running keep running; a change takes effect for the next admission. While a
    /// function moves between the pools, its running invocations are re-counted in the pool it now uses.
    public func setReserved(_ function: String, _ value: Int?) throws(FunctionError) {
        try state.withLock { s throws(FunctionError) in
            if let value {
                guard value >= 0 else {
                    throw FunctionError.badRequest(
                        "reserved concurrency must be 0 or more", code: "InvalidParameterValueException")
                }
                let others = s.reservedTotal - (s.reserved[function] ?? 0)
                let available = s.accountLimit - minimumUnreserved - others
                guard value <= available else {
                    throw FunctionError.badRequest(
                        "reserved concurrency \(value) would leave the unreserved pool below \(minimumUnreserved); at most \(max(0, available)) can be reserved for this function",
                        code: "InvalidParameterValueException")
                }
            }
            let running = s.inFlight[function, default: 0]
            let wasReserved = s.reserved[function] != nil
            s.reserved[function] = value
            if wasReserved && value == nil { s.unreservedInFlight += running }
            if !wasReserved && value != nil { s.unreservedInFlight -= running }
        }
    }
}
