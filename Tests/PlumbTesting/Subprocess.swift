import Foundation

/// Runs a program to completion on a thread of its own, never on Swift's cooperative pool, and kills it when it
/// outlives its time limit.
///
/// Waiting for a child synchronously inside an async test holds one of the pool's threads (two on a 2-core CI
/// machine) for as long as the child runs: a few such waits at once starved every other test of the run, stretched a
/// 50 ms function to 12 s, and a test that waited on a child which waited on the test process could hang the suite
/// until CI's own time limit. Foundation's `Process` is not used at all (see `ChildProcess`): its `waitUntilExit()`,
/// called off the main thread, spins a run loop that under load missed a child's exit and waited forever, and its
/// `run()` can crash the test process. Here the wait happens on a plain `Thread`, the output is read with `poll` so
/// a grandchild that keeps the pipe open cannot block it, and a child that runs past `timeout` is SIGKILLed and
/// reported with what it printed.
public enum Subprocess {
    public struct Outcome: Sendable {
        public let status: Int32
        /// Standard output, and standard error too unless `separateErrors` was asked for.
        public let output: Data
        /// Standard error when `separateErrors` was asked for, otherwise empty.
        public let errors: String

        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    public static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, separateErrors: Bool = false,
        environment: [String: String] = [:], timeout: Duration = .seconds(180)
    ) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
            let thread = Thread {
                continuation.resume(
                    with: Result {
                        try runBlocking(
                            executable, arguments, input: input, separateErrors: separateErrors,
                            environment: environment, timeout: timeout)
                    })
            }
            thread.name = "subprocess " + (executable as NSString).lastPathComponent
            thread.start()
        }
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], input: Data?, separateErrors: Bool, environment: [String: String],
        timeout: Duration
    ) throws -> Outcome {
        let childEnvironment =
            environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = try ChildProcess.pipe()
        var readEnd: Int32? = output.read
        defer { if let readEnd { close(readEnd) } }
        // Standard error goes to a file when kept apart, so a chatty child cannot block on a second full pipe.
        var errorPath: String?
        var errorFD: Int32?
        if separateErrors {
            let path = NSTemporaryDirectory() + "plumb-subprocess-\(UUID().uuidString).err"
            errorFD = try ChildProcess.openForAppending(path)
            errorPath = path
        }
        defer { if let errorPath { try? FileManager.default.removeItem(atPath: errorPath) } }
        let stdin = try input.map { _ in try ChildProcess.pipe() }
        let process: ChildProcess
        do {
            process = try ChildProcess(
                executable, arguments, environment: childEnvironment, stdin: stdin?.read, stdout: output.write,
                stderr: errorFD ?? output.write)
        } catch {
            close(output.write)
            if let errorFD { close(errorFD) }
            if let stdin {
                close(stdin.read)
                close(stdin.write)
            }
            throw error
        }
        // The child has its copies: only its end of each pipe stays open, so end of file means every writer is done.
        close(output.write)
        if let errorFD { close(errorFD) }
        if let stdin, let input {
            close(stdin.read)
            // Written from another thread: a child that answers before it has read all of its input must not
            // deadlock against this thread, which is busy reading that answer.
            let writer = Thread {
                let bytes = [UInt8](input)
                var offset = 0
                while offset < bytes.count {
                    let n = bytes[offset...].withUnsafeBytes { write(stdin.write, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
                close(stdin.write)
            }
            writer.start()
        }

        let fd = output.read
        let started = ContinuousClock.now
        let deadline = started + timeout
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var timedOut = false
        var exitedAt: ContinuousClock.Instant?
        reading: while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready > 0 {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    data += buffer[0..<n]
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                break reading  // end of file: every writer has closed the pipe
            }
            if ready < 0 && errno != EINTR { break reading }
            let now = ContinuousClock.now
            if now >= deadline {
                timedOut = true
                process.signal(SIGKILL)
                break reading
            }
            // The child is gone but something it started still holds the pipe: take what came, don't wait for it.
            if process.exitStatus() != nil {
                if let exitedAt {
                    if now - exitedAt > .milliseconds(500) { break reading }
                } else {
                    exitedAt = now
                }
            }
        }
        close(fd)
        readEnd = nil
        var status = process.waitExitStatus(until: deadline)
        if status == nil {
            timedOut = true
            process.signal(SIGKILL)
            status = process.waitExitStatus(until: ContinuousClock.now + .seconds(10))
        }
        let errors = errorPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        if timedOut {
            let said = String(decoding: data.suffix(4_000), as: UTF8.self)
            throw TestFailure(
                "\(([executable] + arguments).joined(separator: " ")) still ran after \(timeout) and was killed; it printed:\n\(said)\n\(errors.suffix(4_000))"
            )
        }
        return Outcome(status: status ?? -1, output: Data(data), errors: errors)
    }
}
