import Foundation

/// A test peer run as its own process (the Python SMTP server, the webhook receiver in Tests/peers/).
public final class PeerProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public private(set) var process: ChildProcess
    public private(set) var port: Int
    public private(set) var logPath: String

    /// Starts `python3 Tests/peers/<script> --port <port> <arguments>` and waits until the peer has said `ready`
    /// (printed once its socket is bound) and its port accepts connections. Waiting for the line, not only for
    /// the port, matters: a port picked free can be taken by another test's process before the peer binds it,
    /// and then something else accepts there. When that happens to a port picked here (not one the test gave),
    /// the peer is started again on a new free port.
    public init(
        script: String, port: Int? = nil, arguments: [String], logDirectory: String
    ) async throws {
        let picked = port == nil
        var port = port ?? ServerProcess.freePort()
        let spawn = { (port: Int) throws -> (ChildProcess, String) in
            let logPath = logDirectory + "/\(script)-\(port).out"
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try ChildProcess.openForAppending(logPath)
            defer { close(log) }
            let process = try ChildProcess(
                "/usr/bin/env",
                ["python3", Checkout.root + "/Tests/peers/" + script, "--port", String(port)] + arguments,
                stdout: log, stderr: log)
            return (process, logPath)
        }
        (process, logPath) = try spawn(port)
        self.port = port
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                if picked, output.contains("Address already in use") {
                    port = ServerProcess.freePort()
                    (process, logPath) = try spawn(port)
                    self.port = port
                    continue
                }
                throw TestFailure("\(script) exited early:\n\(output)")
            }
            if output.contains("ready"), Self.accepts(port: port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(script) did not listen on \(port):\n\(output)")
    }

    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Kills the peer (SIGKILL: a test process may have blocked SIGTERM for its children).
    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitExited()
    }

    deinit { stop() }

    /// Whether something listens on the loopback port.
    public static func accepts(port: Int) -> Bool {
        guard let fd = connectLoopback(port: port) else { return false }
        close(fd)
        return true
    }
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, nil when nothing accepts there; the caller closes it.
public func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Reads JSON-lines and JSON files the peers write.
public enum PeerRecords {
    public static func jsonLines(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Every `*.json` in `directory`, in name order.
    public static func jsonFiles(_ directory: String) -> [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }.sorted()
        return names.compactMap { name in
            (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))).flatMap {
                try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
            }
        }
    }
}

/// Runs a Python script to completion: its exit status, standard output, and standard error (kept apart, in a file,
/// so a chatty script cannot block on a full pipe). Off the cooperative pool and killed after `timeout`: see
/// `Subprocess`.
public enum Python {
    public static func run(
        _ script: String, _ arguments: [String] = [], timeout: Duration = .seconds(180)
    ) async throws -> (status: Int32, output: Data, errors: String) {
        let outcome = try await Subprocess.run(
            "/usr/bin/env", ["python3", script] + arguments, separateErrors: true, timeout: timeout)
        return (outcome.status, outcome.output, outcome.errors)
    }

    /// Runs a peer script of Tests/peers/ that prints one JSON object, and returns that object; a failing run, or one
    /// that prints something else, is a `TestFailure` with what the script wrote to standard error.
    public static func peer(
        _ script: String, _ arguments: [String] = [], timeout: Duration = .seconds(180)
    ) async throws -> [String: Any] {
        let outcome = try await run(Checkout.root + "/Tests/peers/" + script, arguments, timeout: timeout)
        guard outcome.status == 0,
            let object = try? JSONSerialization.jsonObject(with: outcome.output) as? [String: Any]
        else {
            throw TestFailure("\(script) \(arguments.first ?? "") failed (\(outcome.status)):\n\(outcome.errors)")
        }
        return object
    }
}
