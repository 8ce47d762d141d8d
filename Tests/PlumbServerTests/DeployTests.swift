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
