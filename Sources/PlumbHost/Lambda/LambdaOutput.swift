import Foundation
import Logging
import Synchronization

/// A runtime process's output (stdout and stderr on one pipe), logged a line at a time as it comes. `drain()` reads
/// whatever the pipe holds now, so an invocation's own lines are logged (and captured for `LogType: Tail`) before
/// its END line: the runtime writes them before it posts its answer.
final class LambdaOutput: Sendable {
    struct State {
        var pending: [UInt8] = []
        /// The lines of the invocation in progress, for its tail.
        var captured: [String]?
        var closed = false
    }

    /// A line without its end past 256 KB is logged as it is (CloudWatch's event limit).
    static let maxLine = 262_144

    private let descriptor: Int32
    private let logger: Logger
    private let state = Mutex(State())

    /// Takes ownership of `descriptor` (the pipe's read end), made non-blocking here; a thread of its own waits for
    /// output and closes the descriptor once the pipe has ended.
    init(descriptor: Int32, logger: Logger) {
        self.descriptor = descriptor
        self.logger = logger
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let reader = Thread { [self] in
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            while !self.isClosed {
                poller.revents = 0
                let ready = poll(&poller, 1, 1_000)
                if ready < 0 && errno != EINTR { break }
                if ready > 0 { self.drain() }
            }
            self.state.withLock { $0.closed = true }
            close(descriptor)
        }
        reader.name = "lambda-output"
        reader.start()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Reads and logs every complete line the pipe holds now; at its end, the partial last line too.
    func drain() {
        let lines = state.withLock { s -> [String] in
            guard !s.closed else { return [] }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var ended = false
            while true {
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    s.pending += chunk[0..<count]
                    continue
                }
                ended = count == 0
                break
            }
            var lines: [String] = []
            while let newline = s.pending.firstIndex(of: 0x0A) {
                lines.append(String(decoding: s.pending[..<newline], as: UTF8.self))
                s.pending.removeSubrange(...newline)
            }
            if ended || s.pending.count > Self.maxLine, !s.pending.isEmpty {
                lines.append(String(decoding: s.pending, as: UTF8.self))
                s.pending = []
            }
            if ended { s.closed = true }
            s.captured? += lines
            return lines
        }
        for line in lines { logger.info("\(line)") }
    }

    /// Starts keeping the lines for an invocation's tail.
    func capture() { state.withLock { $0.captured = [] } }

    /// The lines since `capture()`, after reading what the pipe holds.
    func captured() -> [String] {
        drain()
        return state.withLock { s in
            defer { s.captured = nil }
            return s.captured ?? []
        }
    }

}
