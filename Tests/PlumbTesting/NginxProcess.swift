import Foundation

/// nginx (Debian's `nginx-light`) on a free loopback port as the load balancer of a multi-node test, run from a
/// configuration file such as `deploy/cluster/nginx.conf` with its addresses replaced.
public final class NginxProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test that owns this object.
    public let process: ChildProcess
    public let port: Int
    public let directory: String
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }

    public static var binary: String? {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `configuration` (a whole nginx.conf) in `directory`, its `listen 80;` moved to a free loopback port and
    /// its upstream `server` lines replaced by `upstreams` (host:port each); returns once the port accepts.
    public init(configuration: String, upstreams: [String], directory: String) async throws {
        guard let binary = Self.binary else {
            throw TestFailure("nginx is not installed (PLUMB_TEST_PEERS=1 scripts/setup.sh installs nginx-light)")
        }
        port = ServerProcess.freePort()
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/tmp", withIntermediateDirectories: true)
        var lines: [String] = []
        var replaced = false
        for line in configuration.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("server ") && trimmed.contains(":") && trimmed.hasSuffix(";") {
                // The upstream block's servers: all of them become the test's nodes, once.
                if !replaced {
                    let options = trimmed.split(separator: " ").dropFirst(2).joined(separator: " ")
                    for upstream in upstreams { lines.append("        server \(upstream) \(options)") }
                    replaced = true
                }
                continue
            }
            if trimmed == "listen 80;" {
                lines.append("        listen 127.0.0.1:\(port);")
                continue
            }
            if trimmed == "http {" {
                // Where a root-run nginx in a test directory keeps its files.
                lines += [
                    "http {", "    access_log off;", "    client_body_temp_path \(directory)/tmp/body;",
                    "    proxy_temp_path \(directory)/tmp/proxy;", "    fastcgi_temp_path \(directory)/tmp/fastcgi;",
                    "    uwsgi_temp_path \(directory)/tmp/uwsgi;", "    scgi_temp_path \(directory)/tmp/scgi;",
                ]
                continue
            }
            lines.append(String(line))
        }
        guard replaced else { throw TestFailure("the configuration has no upstream server lines") }
        let header = ["user root;", "pid \(directory)/nginx.pid;", "error_log \(directory)/error.log warn;"]
        let path = directory + "/nginx.conf"
        try (header + lines).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let log = try ChildProcess.openForAppending(directory + "/nginx.out")
        defer { close(log) }
        process = try ChildProcess(
            binary, ["-c", path, "-p", directory, "-g", "daemon off;"], stdout: log, stderr: log)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                let out = (try? String(contentsOfFile: directory + "/nginx.out", encoding: .utf8)) ?? ""
                throw TestFailure("nginx exited:\n\(out)\n\(errorLog)")
            }
            if PeerProcess.accepts(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("nginx not listening on \(port):\n\(errorLog)")
    }

    public func stop() {
        guard process.isRunning else { return }
        process.signal(SIGQUIT)
        if !process.waitExited(until: .now + .seconds(10)) { process.signal(SIGKILL) }
    }

    deinit { stop() }
}
