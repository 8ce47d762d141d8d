import Foundation
import PlumbTesting

/// A real `plumb serve` in a temporary data directory and one AWS peer script run against it with the admin's
/// profile (`ENDPOINT CREDENTIALS CONFIG` after `arguments`): what the AWS API tests share.
enum AWSPeerRun {
    static func run(
        _ script: String, arguments: [String] = [], timeout: Duration = .seconds(150),
        check: (_ server: ServerProcess, _ result: [String: Any]) async throws -> Void
    ) async throws {
        let root = TemporaryDirectory("plumb-" + script.replacingOccurrences(of: ".py", with: ""))
        defer { root.remove() }
        let data = root.path + "/data"
        let server = try ServerProcess(dataDirectory: data)
        defer { server.kill(signal: SIGKILL) }
        try await server.waitReady()
        let result = try await Python.peer(
            script, arguments + [server.baseURL, data + "/aws.credentials", data + "/aws.config"], timeout: timeout)
        try await check(server, result)
    }
}
