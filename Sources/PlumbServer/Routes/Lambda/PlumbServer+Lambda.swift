import Foundation
import Logging
import PlumbHost
import PlumbKit

extension PlumbServer {
    /// Starts the functions the config file defines as Lambda handlers (`functions.NAME.runtime`), each instance a
    /// runtime process with its own Runtime API listener, reaching Plumb's AWS endpoint at `AWS_ENDPOINT_URL`.
    static func loadLambdaFunctions(config: ServerConfig, token: String, into host: PluginHost) async throws {
        let logger = Logger(label: "plumb.host")
        let region = config.aws.region
        let account = config.aws.accountID
        for (name, settings) in config.functions.sorted(by: { $0.key < $1.key }) {
            guard let spec = settings.lambda else { continue }
            let definition = spec.definition(name: name, memoryMB: settings.options.memoryMB)
            if let problem = definition.problem() { throw ConfigError("functions.\(name): \(problem)") }
            var environment = [
                "AWS_ENDPOINT_URL": config.resolvedPublicURL, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            ]
            if spec.role != nil {
                // Credentials acting as the role user (`lambdaCallers`): boto3 in the handler reaches Plumb with them.
                let key = AWSAdminKey.derive(token: token, function: name)
                environment["AWS_ACCESS_KEY_ID"] = key.id
                environment["AWS_SECRET_ACCESS_KEY"] = key.secret
            }
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

    /// The functions' access keys (id → the function's role and the key's secret), for the AWS endpoint.
    static func lambdaKeys(config: ServerConfig, token: String) -> [String: (role: String, secret: String)] {
        var keys: [String: (role: String, secret: String)] = [:]
        for (name, settings) in config.functions {
            guard let role = settings.lambda?.role else { continue }
            let key = AWSAdminKey.derive(token: token, function: name)
            keys[key.id] = (role, key.secret)
        }
        return keys
    }
}
