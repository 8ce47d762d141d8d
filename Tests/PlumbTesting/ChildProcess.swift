import Foundation

/// A child process started with `posix_spawn` and reaped with `waitpid` by this object alone.
///
/// Not Foundation's `Process`. On Linux, its `run()` finds the highest open descriptor by reading
/// `/proc/self/fd` and copying each entry's whole 256-byte `d_name`. That over-reads glibc's directory buffer,
/// and when the buffer ends at an unmapped page the test process dies with SIGSEGV in `Process.run()`
/// (swift-corelibs-foundation PR #5472, merged after Swift 6.3.1). It crashed this suite about once in ten
/// runs. Foundation's child monitor also missed exits under load (see `Subprocess`). Here the child gets
/// descriptors 0–2 as given, every other descriptor is closed in it (`posix_spawn_file_actions_addclosefrom_np`),
/// and its exit status is read once, by this object, and kept.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `status` is guarded by `lock`; the rest is immutable.
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `executable` with `arguments`. `environment` is the child's whole environment (nil: this process's);
    /// `directory` its working directory (nil: this one's). `stdin`, `stdout`, `stderr` are descriptors the child
    /// gets as 0, 1 and 2 (nil: inherited); the caller still owns them and closes its copies after this returns.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil
    ) throws {
        _ = Self.ignoreBrokenPipes
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            if let fd { posix_spawn_file_actions_adddup2(&actions, fd, target) }
        }
        if let directory {
            guard Self.addChdir(&actions, directory) == 0 else { throw TestFailure("cannot spawn in \(directory)") }
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw TestFailure("posix_spawn_file_actions_addclosefrom_np failed")
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let pairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = pairs.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let failure = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard failure == 0 else {
            throw TestFailure("cannot start \(executable): \(String(cString: strerror(failure)))")
        }
        processIdentifier = pid
    }

    /// Writing to a child that has exited must fail with EPIPE, not kill the test process.
    private static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    // glibc (2.34+) has both, but declares them only for _GNU_SOURCE, which Swift's Glibc module is not built with.
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addChdir: AddChdir = glibc("posix_spawn_file_actions_addchdir_np")
    private static let addCloseFrom: AddCloseFrom = glibc("posix_spawn_file_actions_addclosefrom_np")
    private static func glibc<F>(_ name: String) -> F {
        guard let symbol = dlsym(nil, name) else { fatalError("glibc has no \(name) (it needs glibc 2.34 or later)") }
        return unsafeBitCast(symbol, to: F.self)
    }

    /// The exit status if the child has exited (128 + the signal when a signal ended it), nil while it runs.
    public func exitStatus() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        let reaped = waitpid(processIdentifier, &raw, WNOHANG)
        guard reaped == processIdentifier else { return nil }
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return status
    }

    public var isRunning: Bool { exitStatus() == nil }

    /// The exit status once the child has exited, waiting until `deadline`; nil if it still runs then.
    public func waitExitStatus(until deadline: ContinuousClock.Instant = .now + .seconds(60)) -> Int32? {
        while true {
            if let status = exitStatus() { return status }
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Waits until the child has exited or `deadline` has passed; whether it exited.
    @discardableResult
    public func waitExited(until deadline: ContinuousClock.Instant = .now + .seconds(60)) -> Bool {
        waitExitStatus(until: deadline) != nil
    }

    public func signal(_ signal: Int32) { kill(processIdentifier, signal) }

    /// Opens `path` for the child to write to (appending; created if missing), close-on-exec in this process.
    public static func openForAppending(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TestFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// A pipe whose two ends are close-on-exec here. A child gets an end only through dup2; every other descriptor
    /// is closed in children anyway (`addclosefrom`), so the moment before `FD_CLOEXEC` is set does not leak it.
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw TestFailure("pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }
}
