import Synchronization

/// A settable clock for tests: epoch seconds.
public final class TestClock: Sendable {
    private let value: Mutex<Int64>
    public init(_ start: Int64 = 1_795_000_000) { value = Mutex(start) }
    public var now: Int64 { value.withLock { $0 } }
    public func advance(by seconds: Int64) { value.withLock { $0 += seconds } }
    public var closure: @Sendable () -> Int64 { { self.now } }
}
