import Foundation

/// A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by scripts/setup.sh with
/// PLUMB_TEST_PEERS=1) on a free loopback port, with its own config and storage directory and clustering off.
public final class AlertmanagerProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public let process: ChildProcess
    public let port: Int
    public let logPath: String

    /// The binary: Debian names it `prometheus-alertmanager`; upstream's release archive, `alertmanager`.
    public static var binary: String? {
        ["/usr/bin/prometheus-alertmanager", "/usr/local/bin/alertmanager", "/usr/bin/alertmanager"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Writes `config` (alertmanager.yml) into `directory` and starts Alertmanager on it; returns once `/-/ready`
    /// answers 200.
    public init(config: String, directory: String, port: Int = ServerProcess.freePort()) async throws {
        guard let binary = Self.binary else {
            throw TestFailure(
                "prometheus-alertmanager is not installed (PLUMB_TEST_PEERS=1 scripts/setup.sh installs it)")
        }
        self.port = port
        try FileManager.default.createDirectory(atPath: directory + "/am-data", withIntermediateDirectories: true)
        try config.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        logPath = directory + "/alertmanager-\(port).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try ChildProcess.openForAppending(logPath)
        defer { close(log) }
        process = try ChildProcess(
            binary,
            [
                "--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/am-data",
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=", "--log.level=warn",
            ], stdout: log, stderr: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw TestFailure("alertmanager exited early:\n\(output)") }
            if let (status, _) = try? await HTTP.request("GET", baseURL + "/-/ready"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("alertmanager not ready on \(port):\n\(output)")
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The alerts Alertmanager holds (`GET /api/v2/alerts`).
    public func alerts() async throws -> [[String: Any]] {
        let (status, body) = try await HTTP.request("GET", baseURL + "/api/v2/alerts")
        guard status == 200 else { throw TestFailure("GET /api/v2/alerts: \(status)") }
        return (try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? []
    }

    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitExited()
    }

    deinit { stop() }
}
