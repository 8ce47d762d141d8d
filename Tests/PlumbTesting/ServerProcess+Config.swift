import Foundation

extension ServerProcess {
    /// Starts `plumb serve` with `yaml` as its config file (written into `directory`) and waits until it is ready.
    /// `ready: false` skips the wait (a TLS listener does not answer the plain-HTTP readiness probe). Without `port`
    /// a free one is picked, and picked again when another test's process takes it before this one binds it.
    public static func start(
        config yaml: String, in directory: TemporaryDirectory, port: Int? = nil, ready: Bool = true,
        environment: [String: String] = [:]
    ) async throws -> ServerProcess {
        let path = directory.path + "/plumb.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            dataDirectory: directory.path + "/data", port: port, extraArguments: ["--config", path],
            environment: environment)
        if ready { try await server.waitReady() }
        return server
    }
}
