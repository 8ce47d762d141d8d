import Foundation
import PlumbHost
import PlumbKit
import PlumbStore

extension PlumbServer {
    /// The Lambda handlers of the config file, started on `host` (each instance a runtime process with its own
    /// Runtime API listener, reaching Plumb's AWS endpoint at `AWS_ENDPOINT_URL`), and the registry that also makes,
    /// changes and deletes them through the API.
    static func loadLambdaFunctions(
        config: ServerConfig, token: String, secrets: SecretBox, into host: PluginHost
    ) async throws -> LambdaFunctions {
        let functions = LambdaFunctions(host: host, config: config, secrets: secrets, token: token)
        try await functions.loadConfigured(config)
        return functions
    }
}
