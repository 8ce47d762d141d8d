import CoreMetrics
import PlumbAPI
import Synchronization

/// The identity of one swift-metrics handler: label and dimensions, as given by the caller.
struct HandlerID: Hashable, Sendable {
    let label: String
    let dimensions: [Dimension]

    init(label: String, dimensions: [(String, String)]) {
        self.label = label
        self.dimensions = dimensions.map { Dimension(name: $0.0, value: $0.1) }
    }
}

/// A counter: a running total for Prometheus and the increments since the last report for the store.
///
/// `increment(by: 0)` counts as activity: the next report stores a 0 for the interval. That is how "no errors" is a
/// datapoint of 0 rather than no data, as Lambda's `Errors` and `Throttles` are 0 for a minute with invocations
/// and none of them.
final class PlumbCounter: CounterHandler, Sendable {
    let id: HandlerID
    private let state = Mutex((total: Int64(0), delta: Int64(0), touched: false))

    init(id: HandlerID) { self.id = id }

    func increment(by amount: Int64) {
        state.withLock {
            $0.total &+= amount
            $0.delta &+= amount
            $0.touched = true
        }
    }

    func reset() { state.withLock { $0 = (0, 0, false) } }

    var total: Int64 { state.withLock { $0.total } }

    /// The increments since the last call, nil when there was no activity at all (not even a 0).
    func takeDelta() -> Int64? {
        state.withLock { s in
            defer { (s.delta, s.touched) = (0, false) }
            return s.touched ? s.delta : nil
        }
    }
}

/// A counter of fractions (usage in GB-seconds, a cost in dollars): a running total for Prometheus and the increments
/// since the last report for the store, as `PlumbCounter` but in `Double`. A negative or non-finite increment is
/// ignored: a counter only grows.
final class PlumbFloatingCounter: FloatingPointCounterHandler, Sendable {
    let id: HandlerID
    private let state = Mutex((total: 0.0, delta: 0.0, touched: false))

    init(id: HandlerID) { self.id = id }

    func increment(by amount: Double) {
        guard amount.isFinite, amount >= 0 else { return }
        state.withLock {
            $0.total += amount
            $0.delta += amount
            $0.touched = true
        }
    }

    func reset() { state.withLock { $0 = (0, 0, false) } }

    var total: Double { state.withLock { $0.total } }

    /// The increments since the last call, nil when there was no activity at all (not even a 0).
    func takeDelta() -> Double? {
        state.withLock { s in
            defer { (s.delta, s.touched) = (0, false) }
            return s.touched ? s.delta : nil
        }
    }
}

/// A recorder, meter or timer: every value since the last report (as a mergeable `Aggregate`), the
/// cumulative distribution for Prometheus summaries, and the last value for gauges.
final class PlumbRecorder: RecorderHandler, MeterHandler, TimerHandler, Sendable {
    enum Kind: Sendable {
        case gauge, distribution, timer
    }

    let id: HandlerID
    let kind: Kind
    private struct State {
        var interval = Aggregate()
        var cumulative = Aggregate()
        var last: Double = 0
    }
    private let state = Mutex(State())

    init(id: HandlerID, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        guard value.isFinite else { return }
        state.withLock { s in
            s.last = value
            s.interval.add(value)
            if kind != .gauge { s.cumulative.add(value) }
        }
    }

    // Meter
    func set(_ value: Int64) { record(Double(value)) }
    func set(_ value: Double) { record(value) }
    func increment(by amount: Double) { record(state.withLock { $0.last } + amount) }
    func decrement(by amount: Double) { record(state.withLock { $0.last } - amount) }

    // Timer: stored in milliseconds (as Lambda's Duration), exposed in seconds.
    func recordNanoseconds(_ duration: Int64) { record(Double(duration) / 1_000_000) }

    var last: Double { state.withLock { $0.last } }
    var cumulative: Aggregate { state.withLock { $0.cumulative } }

    func takeInterval() -> Aggregate {
        state.withLock { s in
            defer { s.interval = Aggregate() }
            return s.interval
        }
    }
}
