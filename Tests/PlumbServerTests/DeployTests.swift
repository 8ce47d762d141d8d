import Foundation
import PlumbServer
import PlumbTesting
import Testing

/// The shipped deployment files: the example config loads, and the unit passes `systemd-analyze verify` with an
/// exposure score of 2.5 or lower.
@Suite struct DeployTests {
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await CLI.runProgram("/usr/bin/env", arguments)
    }

    @Test func exampleConfigLoads() throws {
        let config = try ServerConfig.load(path: Checkout.root + "/deploy/plumb.yaml")
        #expect(config.functions["sentiment.classify"]?.reserved == 50)
    }

    /// `install.sh` staged below a directory, and that install run from elsewhere: it serves from its own data files
    /// (the classifier's iris model was ModelNotFound in an install, whose iris.csv stayed in the checkout), and its
    /// /etc/plumb holds the shipped dashboards as well as the alert files.
    @Test func stagedInstallServesFromItsOwnFiles() async throws {
        let stage = TemporaryDirectory("plumb-stage")
        defer { stage.remove() }
        let install = try await CLI.runProgram(
            "/usr/bin/env", ["bash", Checkout.root + "/deploy/install.sh"],
            environment: ["DESTDIR": stage.path, "PLUMB_BINARY": Checkout.plumbBinary], timeout: .seconds(120))
        #expect(install.status == 0 && install.output.contains("staged below"), "\(install.output)")
        let dashboards =
            (try? FileManager.default.contentsOfDirectory(atPath: stage.path + "/etc/plumb/dashboards")) ?? []
        #expect(dashboards.contains("overview.yaml") && dashboards.count >= 7, "\(dashboards)")
        #expect(FileManager.default.fileExists(atPath: stage.path + "/usr/local/share/plumb/classifier/iris.csv"))

        // Run the staged binary from a directory that has no share/ of its own.
        let work = TemporaryDirectory("plumb-stage-run")
        defer { work.remove() }
        let port = ServerProcess.freePort()
        let log = try ChildProcess.openForAppending(work.path + "/serve.log")
        let server = try ChildProcess(
            stage.path + "/usr/local/bin/plumb",
            ["serve", "--data", work.path + "/data", "--listen", "127.0.0.1:\(port)"],
            directory: work.path, stdout: log, stderr: log)
        close(log)
        defer {
            server.signal(SIGKILL)
            server.waitExited()
        }
        var models: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, models.isEmpty, server.isRunning {
            if let (status, body) = try? await HTTP.request("GET", "http://127.0.0.1:\(port)/apps/classifier/models"),
                status == 200
            {
                let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
                models = (object?["models"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            }
            if models.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        let output = (try? String(contentsOfFile: work.path + "/serve.log", encoding: .utf8)) ?? ""
        #expect(models.contains("iris"), "the installed iris.csv trains the default model: \(output.suffix(1_500))")
        let (predicted, answer) = try await HTTP.request(
            "POST", "http://127.0.0.1:\(port)/apps/classifier/predict?model=iris",
            body: Array(#"{"x1": 5.1, "x2": 3.5, "x3": 1.4, "x4": 0.2}"#.utf8))
        #expect(predicted == 200, "\(String(decoding: answer, as: UTF8.self))")
    }

    @Test func unitVerifiesAndIsHardened() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // The unit names /usr/local/bin/plumb; verify it against this checkout's binary instead.
        let unit = try String(contentsOfFile: Checkout.root + "/deploy/plumb.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/plumb", with: Checkout.plumbBinary)
        try unit.write(toFile: dir.path + "/plumb.service", atomically: true, encoding: .utf8)
        let verify = try await Self.run(["systemd-analyze", "verify", dir.path + "/plumb.service"])
        #expect(verify.status == 0, "\(verify.output)")
        let security = try await Self.run(["systemd-analyze", "security", "--offline=yes", dir.path + "/plumb.service"])
        let line = security.output.split(separator: "\n").first { $0.contains("Overall exposure level") }
        let score = line.flatMap { $0.split(separator: " ").compactMap { Double($0) }.last }
        let exposure = try #require(score, "\(security.output.suffix(300))")
        print("systemd-analyze security exposure: \(exposure)")
        #expect(exposure <= 2.5)
    }
}
