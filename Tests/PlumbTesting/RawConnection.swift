import Foundation
import Synchronization

/// A TCP connection on a plain socket, for tests that must control every byte a client sends (a head one byte at a
/// time, a body that stops) and see exactly what the server answers and when it closes.
///
/// Reads wait with `poll`, so they block the calling thread: call them through `offThePool` from async tests.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: one test drives one connection; the descriptor is closed at most once (`close`).
    public let fd: Int32
    private let closed = Mutex(false)
    public let opened = ContinuousClock.now

    /// Connects to 127.0.0.1:`port` (blocking until the handshake is done).
    public init(port: Int) throws {
        guard let fd = connectLoopback(port: port) else { throw TestFailure("cannot connect to 127.0.0.1:\(port)") }
        self.fd = fd
    }

    /// Sends everything; false when the server has closed or reset the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What `read` saw: the bytes, and whether the server closed (EOF or reset) within the time.
    public struct Received: Sendable {
        public var bytes: [UInt8] = []
        public var closed = false
        /// When the close was seen.
        public var closedAt: ContinuousClock.Instant?
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Reads until the server closes, `until(bytes)` holds, or `timeout` passes.
    public func read(timeout: Duration, until done: ([UInt8]) -> Bool = { _ in false }) -> Received {
        var received = Received()
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !done(received.bytes) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(
                &poller, 1,
                Int32(max(1, left.components.seconds * 1_000 + left.components.attoseconds / 1_000_000_000_000_000)))
            guard ready > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                received.bytes += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                received.closed = true
                received.closedAt = .now
                break
            }
        }
        return received
    }

    /// Reads one whole response (head and a `Content-Length` body); nil when the server closed or `timeout` passed
    /// before it was complete.
    public func readResponse(timeout: Duration) -> RawResponse? {
        let received = read(timeout: timeout) { RawResponse(parsing: $0) != nil }
        return RawResponse(parsing: received.bytes)
    }

    /// Closes the descriptor the first time only: a second `close` of the same number would close whatever the
    /// process opened under it since (another test's journal, in a parallel run: EBADF there).
    public func close() {
        guard
            closed.withLock({ done in
                defer { done = true }
                return !done
            })
        else { return }
        _ = Glibc.close(fd)
    }
}

/// Runs blocking work (socket waits, `poll` loops) on a thread of its own, never on Swift's cooperative pool.
public func offThePool<T: Sendable>(
    _ name: String = "blocking test work", _ work: @escaping @Sendable () throws -> T
) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.name = name
        thread.start()
    }
}
