import Foundation
import Synchronization

/// A real PostgreSQL 15 (Debian's `postgresql-15`) on a free loopback port, in its own directory, run as the
/// `postgres` system user (PostgreSQL refuses to run as root), with password (SCRAM) authentication for the role
/// `plumb`.
public final class PostgresProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public private(set) var process: ChildProcess
    public let port: Int
    public let directory: String
    public let password: String
    public static let user = "plumb"

    /// Where Debian keeps the server binaries.
    public static var binDirectory: String? {
        ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/postgres") }
    }

    /// The system user that runs the server.
    static let systemUser = "postgres"

    public var url: String { url(database: "postgres") }

    /// The URL of `database` on this server, as the `plumb` role.
    public func url(database: String) -> String {
        "postgres://\(Self.user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }
    public var logPath: String { directory + "/postgres.log" }
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Creates a cluster in `directory` (initdb) and starts it; returns once it accepts connections.
    public init(directory: String, port: Int = ServerProcess.freePort()) async throws {
        guard let bin = Self.binDirectory else {
            throw TestFailure(
                "PostgreSQL is not installed (PLUMB_TEST_PEERS=1 scripts/setup.sh installs postgresql-15)")
        }
        guard let account = getpwnam(Self.systemUser) else {
            throw TestFailure("no '\(Self.systemUser)' system user (the postgresql package creates it)")
        }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        self.port = port
        self.directory = directory
        password = "test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The parents must let the server user through; the directory is its own.
        chmod(directory, 0o700)
        chown(directory, uid, gid)
        var parent = (directory as NSString).deletingLastPathComponent
        while parent.count > 1 && parent != "/tmp" {
            chmod(parent, 0o755)
            parent = (parent as NSString).deletingLastPathComponent
        }
        let passwordFile = directory + "/password"
        try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        chown(passwordFile, uid, gid)
        chmod(passwordFile, 0o600)
        let asServer = ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"]
        let initdb = try await CLI.runProgram(
            asServer[0],
            Array(asServer.dropFirst()) + [
                bin + "/initdb", "-D", directory + "/data", "-U", Self.user, "--pwfile=" + passwordFile,
                "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync",
            ], timeout: .seconds(120))
        guard initdb.status == 0 else { throw TestFailure("initdb failed:\n\(initdb.output)") }
        FileManager.default.createFile(atPath: directory + "/postgres.log", contents: nil)
        chown(directory + "/postgres.log", uid, gid)
        serverArguments =
            Array(asServer.dropFirst()) + [
                bin + "/postgres", "-D", directory + "/data", "-p", "\(port)", "-k", directory,
                "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
            ]
        process = try Self.spawn(serverArguments, log: directory + "/postgres.log")
        try await waitAccepting()
    }

    /// `setpriv … postgres -D …`: how the server is started, again on `restart()`.
    private let serverArguments: [String]

    private static func spawn(_ arguments: [String], log path: String) throws -> ChildProcess {
        let log = try ChildProcess.openForAppending(path)
        defer { close(log) }
        return try ChildProcess("/usr/bin/setpriv", arguments, stdout: log, stderr: log)
    }

    /// How many times the log says the server became ready.
    private var readyCount: Int {
        output.components(separatedBy: "database system is ready to accept connections").count - 1
    }

    /// Waits until the log says ready once more than `before` times and the port accepts.
    private func waitAccepting(before: Int = 0) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw TestFailure("postgres exited early:\n\(output)") }
            if readyCount > before, PeerProcess.accepts(port: port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("postgres not ready on \(port):\n\(output)")
    }

    /// Starts the server again on the same directory and port (after `stop`): what a PostgreSQL back from an outage
    /// looks like to its clients.
    public func restart() async throws {
        stop(signal: SIGQUIT)
        let before = readyCount
        process = try Self.spawn(serverArguments, log: logPath)
        try await waitAccepting(before: before)
    }

    /// Runs SQL through `psql` as the `plumb` role; returns its output (tuples only, unaligned).
    public func psql(_ sql: String) async throws -> String {
        let result = try await CLI.runProgram(
            "/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", "postgres", "-tAc", sql],
            environment: ["PGPASSWORD": password], timeout: .seconds(60))
        guard result.status == 0 else { throw TestFailure("psql: \(sql):\n\(result.output)") }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sends `signal` (SIGKILL by default) and waits until the server has exited.
    public func stop(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        process.signal(signal)
        process.waitExited()
    }

    deinit { stop(signal: SIGQUIT) }
}

/// One PostgreSQL for the whole test process, each caller getting a new empty database of its own: a suite that
/// needs a fresh store per test does not pay an `initdb` per test. The server is stopped when the process ends.
public actor SharedPostgres {
    public static let shared = SharedPostgres()
    /// The server's start, shared by every caller that comes while it is under way (the actor is reentrant).
    private var starting: Task<PostgresProcess, any Error>?
    private var databases = 0
    private static let pid = Mutex<pid_t>(0)

    /// The URL of a new, empty database.
    public func freshDatabase() async throws -> String {
        if starting == nil {
            starting = Task {
                let directory = TemporaryDirectory("plumb-pg-shared")
                let server = try await PostgresProcess(directory: directory.path + "/pg")
                directory.remove()
                Self.pid.withLock { $0 = server.process.processIdentifier }
                atexit {
                    let pid = SharedPostgres.pid.withLock { $0 }
                    if pid > 0 { kill(pid, SIGQUIT) }
                }
                return server
            }
        }
        let server = try await starting!.value
        databases += 1
        let name = "conformance_\(databases)"
        _ = try await server.psql("CREATE DATABASE \(name)")
        return server.url(database: name)
    }
}
