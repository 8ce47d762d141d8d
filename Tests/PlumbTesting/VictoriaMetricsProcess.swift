import Foundation

/// A real VictoriaMetrics single node (Debian's `victoria-metrics`, installed by scripts/setup.sh with
/// PLUMB_TEST_PEERS=1) on a free loopback port with its own storage directory. Retention is long so samples at a
/// test clock's fixed time are kept; `extraArguments` add flags (deduplication, a label limit) a test needs.
public final class VictoriaMetricsProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public let process: ChildProcess
    public let port: Int
    public let logPath: String

    public static var binary: String? {
        ["/usr/bin/victoria-metrics", "/usr/local/bin/victoria-metrics", "/usr/local/bin/victoria-metrics-prod"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts VictoriaMetrics with its data in `directory`; returns once `/health` answers 200.
    public init(
        directory: String, extraArguments: [String] = ["-maxLabelsPerTimeseries=40"],
        port: Int = ServerProcess.freePort()
    ) async throws {
        guard let binary = Self.binary else {
            throw TestFailure("victoria-metrics is not installed (PLUMB_TEST_PEERS=1 scripts/setup.sh installs it)")
        }
        self.port = port
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logPath = directory + "/victoria-metrics-\(port).log"
        let log = try ChildProcess.openForAppending(logPath)
        defer { close(log) }
        process = try ChildProcess(
            binary,
            [
                "-storageDataPath=\(directory)/vm-data", "-httpListenAddr=127.0.0.1:\(port)", "-retentionPeriod=100y",
                "-loggerLevel=WARN",
            ] + extraArguments, stdout: log, stderr: log)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw TestFailure("victoria-metrics exited early:\n\(output)") }
            if let (status, _) = try? await HTTP.request("GET", baseURL + "/health"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("victoria-metrics not ready on \(port):\n\(output)")
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` (SIGKILL by default; SIGTERM lets it flush and exit) and waits until it has exited.
    public func stop(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        process.signal(signal)
        process.waitExited()
    }

    deinit { stop() }
}
