import Foundation

/// A real `plumb serve` process on a free loopback port, for tests where the process itself matters
/// (crash recovery, signals).
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process`, `port` and `logPath` are only touched from the test that owns this object.
    public private(set) var process: ChildProcess
    public private(set) var port: Int
    public let dataDirectory: String
    public private(set) var logPath: String
    let extraArguments: [String]
    let environment: [String: String]
    /// Whether the port was picked here (then a start that loses it to another process is retried on a new one).
    let pickedPort: Bool

    public init(
        dataDirectory: String, port: Int? = nil, extraArguments: [String] = [], environment: [String: String] = [:]
    ) throws {
        self.dataDirectory = dataDirectory
        self.extraArguments = extraArguments
        self.environment = environment
        pickedPort = port == nil
        self.port = port ?? Self.freePort()
        let parent = (dataDirectory as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        (process, logPath) = try Self.spawn(dataDirectory, self.port, extraArguments, environment)
    }

    static func spawn(
        _ dataDirectory: String, _ port: Int, _ extraArguments: [String], _ environment: [String: String]
    ) throws -> (ChildProcess, String) {
        let logPath = (dataDirectory as NSString).deletingLastPathComponent + "/serve-\(port).log"
        let log = try ChildProcess.openForAppending(logPath)
        defer { close(log) }
        let process = try ChildProcess(
            Checkout.plumbBinary, ["serve", "--data", dataDirectory, "--listen", "127.0.0.1:\(port)"] + extraArguments,
            environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { $1 },
            directory: Checkout.root, stdout: log, stderr: log)
        return (process, logPath)
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var token: String {
        (try? String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines) ?? ""
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `/readyz` answers 200. A loaded two-core machine may take long to start a debug build: in the
    /// suite's parallel pass dozens of servers start at once, and one took 48 s to log its first line on a slow
    /// host (ready at 60 s), hence two minutes.
    public func waitReady(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                // The free port was taken by another test's process between picking it and binding it: a new one.
                if pickedPort, log.contains("Address already in use"), ContinuousClock.now < deadline {
                    port = Self.freePort()
                    (process, logPath) = try Self.spawn(dataDirectory, port, extraArguments, environment)
                    continue
                }
                throw TestFailure("plumb serve exited early:\n\(log)")
            }
            if let (status, _) = try? await HTTP.request("GET", baseURL + "/readyz"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("plumb serve not ready after \(timeout) (\(await stateDescription())):\n\(log)")
    }

    /// What the process is doing, for a failure message: `/healthz`'s answer and the kernel's view of it.
    func stateDescription() async -> String {
        let health = (try? await HTTP.request("GET", baseURL + "/healthz", timeout: 5)).map { "\($0.0)" } ?? "no answer"
        let pid = process.processIdentifier
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let state = status.split(separator: "\n").filter { $0.hasPrefix("State:") || $0.hasPrefix("Threads:") }
        let channel = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?"
        return "pid \(pid), /healthz: \(health), \(state.joined(separator: ", ")), wchan \(channel)"
    }

    public func kill(signal: Int32) {
        process.signal(signal)
        process.waitExited()
    }

    /// Waits (without holding a thread of the cooperative pool) until the server has exited; false after `timeout`.
    public func waitExit(timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.exitStatus() == nil {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// A loopback port nothing listens on right now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the `plumb` binary with arguments and collects its exit status and combined output (off the cooperative
/// pool, killed after `timeout`: see `Subprocess`).
public enum CLI {
    /// `environment` is merged over the test process's own.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) async throws -> (status: Int32, output: String) {
        try await runProgram(Checkout.plumbBinary, arguments, environment: environment, timeout: timeout)
    }

    /// Runs any program (by path) the same way.
    public static func runProgram(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) async throws -> (status: Int32, output: String) {
        let outcome = try await Subprocess.run(path, arguments, environment: environment, timeout: timeout)
        return (outcome.status, outcome.text)
    }
}
