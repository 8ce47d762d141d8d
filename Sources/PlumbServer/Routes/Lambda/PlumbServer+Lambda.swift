import Foundation
import Logging
import PlumbHost
import PlumbKit

extension PlumbServer {
    /// Starts the functions the config file defines as Lambda handlers (`functions.NAME.runtime`), each instance a
    /// runtime process with its own Runtime API listener, reaching Plumb's AWS endpoint at `AWS_ENDPOINT_URL`.
    static func loadLambdaFunctions(config: ServerConfig, into host: PluginHost) async throws {
        let logger = Logger(label: "plumb.host")
        let region = config.aws.region
        let account = config.aws.accountID
        for (name, settings) in config.functions.sorted(by: { $0.key < $1.key }) {
            guard let spec = settings.lambda else { continue }
            let definition = spec.definition(name: name, memoryMB: settings.options.memoryMB)
            if let problem = definition.problem() { throw ConfigError("functions.\(name): \(problem)") }
            let environment = [
                "AWS_ENDPOINT_URL": config.resolvedPublicURL, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            ]
            do {
                try await host.loadLambda(
                    definition,
                    runtimeAPI: { session in try await LambdaRuntimeListener.open(session, logger: logger) },
                    environment: environment,
                    functionARN: "arn:aws:lambda:\(region):\(account):function:\(name)")
            } catch let error as FunctionError {
                throw ConfigError("functions.\(name): \(error.message)")
            }
        }
    }
}
