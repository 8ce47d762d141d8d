import Foundation
import Logging
import PlumbKit
import PlumbStore

extension PluginHost {
    /// Registers a Lambda handler as a function named by itself (`comments`, as Lambda names it), its instances
    /// runtime processes under the same pool, autoscaler, throttling and instruments as a plugin's functions. Its
    /// output goes to `/aws/lambda/NAME`. It starts with its provisioned instances, and one warm instance in the
    /// background; a handler whose init fails is logged and answers InitError, and the server stays up.
    /// `${PLUMB_DATA}` in an environment value is the server's data directory (where handlers may keep shared files).
    ///
    /// - Parameters:
    ///   - runtimeAPI: opens each instance's Runtime API listener.
    ///   - environment: variables every instance gets besides Lambda's own (`AWS_ENDPOINT_URL`, credentials).
    ///   - functionARN: the function's ARN as its runtime sees it.
    ///   - replacing: whether it takes the place of a Lambda function of the same name (a new definition or code:
    ///     the old one's instances are retired, its reserved and provisioned concurrency kept).
    public func loadLambda(
        _ definition: LambdaFunctionDefinition, runtimeAPI: @escaping LambdaRuntimeAPI,
        environment: [String: String] = [:], functionARN: String, replacing: Bool = false
    ) async throws {
        if let problem = definition.problem() {
            throw FunctionError.badRequest(
                "function \(definition.name): \(problem)", code: "InvalidParameterValueException")
        }
        LambdaMemoryCgroup.swept
        let definition = definition.expanding(dataDirectory: dataDirectory)
        let directory = dataDirectory + "/functions/" + definition.name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory + "/state.sqlite", durability: durability, migrations: [])
        let logger = makeLogger("plumb.lambda." + definition.name)
        let context = PluginContext(
            pluginName: Self.lambdaPlugin, logger: logger, database: store.pool, dataDirectory: directory,
            settings: [:],
            publicURL: publicURL)
        var options = functionOptions[definition.name] ?? FunctionOptions()
        options.maxConcurrencyPerInstance = 1
        options.memoryMB = definition.memoryMB
        let hosted = HostedFunction(
            name: definition.name, pluginName: Self.lambdaPlugin, trigger: definition.trigger,
            access: definition.access, options: options,
            pluginContext: context, factory: factory, logger: self.logger
        ) {
            let instance = try await LambdaInstance.start(
                definition, runtimeAPI: runtimeAPI, environment: environment, functionARN: functionARN,
                logger: logger)
            return .init(
                handler: { request, context in try await instance.invoke(request, context) },
                isAlive: { instance.isAlive })
        }
        if replacing, let old = self.function(named: definition.name) {
            guard old.pluginName == Self.lambdaPlugin else {
                throw FunctionError(
                    status: 409, code: "ResourceConflictException",
                    message: "function \(definition.name) belongs to the plugin \(old.pluginName)")
            }
            options.provisioned = old.scaling.provisioned
            _ = replace(hosted)
        } else {
            try register(hosted)
        }
        updateCaps(hosted)
        try await setProvisionedConcurrency(definition.name, options.provisioned)
        // Unlike a plugin's, a handler's first instance starts in the background: a handler whose init hangs or
        // fails leaves the server starting and up; its invocations answer InitError (each tries a new instance).
        let hostLogger = self.logger
        Task {
            do { try await hosted.pool.prewarm(1) } catch {
                hostLogger.error("function \(definition.name): its first instance failed to start: \(error)")
            }
        }
        self.logger.info("function \(definition.name) (\(definition.runtime.rawValue) \(definition.handler)) started")
    }
}
