import Foundation

/// Runs a program to completion on a thread of its own, never on Swift's cooperative pool, and kills it when it
/// outlives its time limit.
///
/// Waiting for a child synchronously inside an async test holds one of the pool's threads (two on a 2-core CI
/// machine) for as long as the child runs: a few such waits at once starved every other test of the run, stretched a
/// 50 ms function to 12 s, and a test that waited on a child which waited on the test process could hang the suite
/// until CI's own time limit. Foundation's `waitUntilExit()` is not used at all: called off the main thread it spins
/// a run loop that, under load, can miss the child's exit and wait forever. Here the wait happens on a plain `Thread`, the output is read with `poll` so a
/// grandchild that keeps the pipe open cannot block it, and a child that runs past `timeout` is SIGKILLed and
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
                continuation.resume(with: Result {
                    try runBlocking(executable, arguments, input: input, separateErrors: separateErrors, environment: environment, timeout: timeout)
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let output = Pipe()
        process.standardOutput = output
        // Standard error goes to a file when kept apart, so a chatty child cannot block on a second full pipe.
        var errorPath: String?
        if separateErrors {
            let path = NSTemporaryDirectory() + "plumb-subprocess-\(UUID().uuidString).err"
            FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else { throw TestFailure("cannot write \(path)") }
            process.standardError = handle
            errorPath = path
        } else {
            process.standardError = output
        }
        defer { if let errorPath { try? FileManager.default.removeItem(atPath: errorPath) } }
        let stdin = input.map { _ in Pipe() }
        if let stdin { process.standardInput = stdin }
        try process.launchSerialized()
        if let stdin, let input {
            // Written from another thread: a child that answers before it has read all of its input must not
            // deadlock against this thread, which is busy reading that answer.
            let writer = Thread {
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            writer.start()
        }

        let fd = output.fileHandleForReading.fileDescriptor
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
                kill(process.processIdentifier, SIGKILL)
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
        // Not `waitUntilExit()`: off the main thread it spins a run loop that, under load, stopped hearing of a
        // child that had long exited (seen here: a tmux client, gone, its test waiting forever).
        var status = process.waitExitStatus(until: deadline)
        if status == nil {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            status = process.waitExitStatus(until: ContinuousClock.now + .seconds(10))
        }
        let errors = errorPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        if timedOut {
            let said = String(decoding: data.suffix(4_000), as: UTF8.self)
            throw TestFailure(
                "\(([executable] + arguments).joined(separator: " ")) still ran after \(timeout) and was killed; it printed:\n\(said)\n\(errors.suffix(4_000))")
        }
        return Outcome(status: status ?? -1, output: Data(data), errors: errors)
    }
}

extension Process {
    /// Waits until the process has exited or `deadline` has passed, whichever is first; whether it exited.
    ///
    /// Not `waitUntilExit()`, which spins a run loop, nor `isRunning` alone: both rely on Foundation's child monitor,
    /// which was seen to miss the exit of a `tmux new-session -d` client (it daemonises a server as it goes) and wait
    /// forever. The exit is asked of the kernel too, with `waitid(WNOWAIT)`, which leaves the child for Foundation to
    /// reap.
    @discardableResult
    public func waitExited(until deadline: ContinuousClock.Instant = .now + .seconds(60)) -> Bool {
        waitExitStatus(until: deadline) != nil
    }

    /// The exit status once the process has exited (128 + the signal when a signal ended it), waiting until
    /// `deadline`; nil if it still runs then.
    public func waitExitStatus(until deadline: ContinuousClock.Instant = .now + .seconds(60)) -> Int32? {
        while true {
            if let status = exitStatus() { return status }
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// The exit status if the process has exited (128 + the signal when a signal ended it), nil while it runs.
    public func exitStatus() -> Int32? {
        func foundations() -> Int32 { terminationReason == .uncaughtSignal ? 128 + terminationStatus : terminationStatus }
        if !isRunning { return foundations() }
        var info = siginfo_t()
        let asked = waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOHANG | WNOWAIT)
        if asked == 0, info._sifields._sigchld.si_pid == processIdentifier {
            let status = info._sifields._sigchld.si_status
            return info.si_code == CLD_EXITED ? status : 128 + status
        }
        // Foundation reaped it between the two questions: its status is set a moment after its waitpid.
        if asked != 0, errno == ECHILD {
            for _ in 0..<200 where isRunning { usleep(5_000) }
            return isRunning ? nil : foundations()
        }
        return nil
    }
}
