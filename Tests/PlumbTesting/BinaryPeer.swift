import Foundation

/// A peer that is a Debian binary (Prometheus, its node exporter) on a free loopback port, logging to a file in
/// `directory`; ready once `readyPath` answers 200.
public final class BinaryPeer: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public let process: ChildProcess
    public let port: Int
    public let logPath: String

    /// - Parameter arguments: given the port the peer is to listen on.
    public init(
        _ binary: String, directory: String, readyPath: String, port: Int = ServerProcess.freePort(),
        arguments: (Int) -> [String]
    ) async throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestFailure("\(binary) is not installed (scripts/setup.sh installs the test peers)")
        }
        self.port = port
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logPath = directory + "/\((binary as NSString).lastPathComponent)-\(port).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try ChildProcess.openForAppending(logPath)
        defer { close(log) }
        process = try ChildProcess(binary, arguments(port), stdout: log, stderr: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw TestFailure("\(binary) exited early:\n\(output)") }
            if let (status, _) = try? await HTTP.request("GET", baseURL + readyPath), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(binary) not ready on \(port):\n\(output)")
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitExited()
    }

    deinit { stop() }
}
