import Crypto
import Foundation
import Logging
import PlumbHost
import PlumbKit
import PlumbStore
import Synchronization

/// The Lambda handlers of this server: those the config file defines, and those made through the API (Plumb's
/// `PUT /api/v1/functions/{name}`, the CLI's `plumb functions create`, Lambda's `CreateFunction`).
///
/// An API-made function lives in `DATA/functions/NAME/`: `function.json` (its definition, the environment sealed with
/// the secrets key) and its code unzipped in `code-ID/`. It starts again with the server. A change of code or
/// configuration takes the function's place at once: invocations running finish on the old instances, the next ones
/// start on the new definition. Changes are made one at a time. API-made functions live on the node that made them.
final class LambdaFunctions: Sendable {
    /// What the APIs describe of a handler.
    struct Details: Sendable {
        var definition: LambdaFunctionDefinition
        /// The runtime as it was asked for (`python3.12`, `provided.al2023`); Plumb runs the system's.
        var runtimeName: String
        var role: String?
        var description: String
        var madeByAPI: Bool
        var codeSHA256: String
        var codeSize: Int
        var lastModified: Int64
    }

    /// What an API-made function is created with.
    struct Spec: Sendable {
        var runtimeName: String
        var handler: String
        var timeout = 3
        var memoryMB = 128
        var role: String?
        var environment: [String: String] = [:]
        var description = ""
    }

    /// What an update changes (nil: kept).
    struct Changes: Sendable {
        var runtimeName: String?
        var handler: String?
        var timeout: Int?
        var memoryMB: Int?
        /// `.some(nil)` clears the role.
        var role: String??
        var environment: [String: String]?
        var description: String?
    }

    /// `function.json`.
    struct Stored: Codable {
        var name: String
        var runtime: String
        var handler: String
        var timeout: Int
        var memoryMB: Int
        var role: String?
        var description: String
        /// `[String: String]` as JSON, sealed.
        var environment: String
        var code: String
        var codeSHA256: String
        var codeSize: Int
        var lastModified: Int64
    }

    /// Lambda's limit on a package sent directly: 50 MB zipped.
    static let maxZipBytes = 52_428_800

    let host: PluginHost
    let dataDirectory: String
    let secrets: SecretBox
    let token: String
    let region: String
    let account: String
    let endpointURL: String
    let logger: Logger
    let details = Mutex<[String: Details]>([:])
    /// Access key id → the function's role and the key's secret.
    let keys = Mutex<[String: (role: String, secret: String)]>([:])
    let changes = AsyncLock()

    init(host: PluginHost, config: ServerConfig, secrets: SecretBox, token: String) {
        self.host = host
        dataDirectory = config.dataDirectory
        self.secrets = secrets
        self.token = token
        region = config.aws.region
        account = config.aws.accountID
        endpointURL = config.resolvedPublicURL
        logger = Logger(label: "plumb.host")
    }

    func details(_ name: String) -> Details? { details.withLock { $0[name] } }

    /// The role and secret of a handler's access key (`PKLF…`), nil for any other key.
    func role(ofKey id: String) -> (role: String, secret: String)? { keys.withLock { $0[id] } }

    func functionARN(_ name: String) -> String { "arn:aws:lambda:\(region):\(account):function:\(name)" }

    // MARK: - Starting

    /// Starts the functions the config file defines (`functions.NAME.runtime`); a bad one stops the start.
    func loadConfigured(_ config: ServerConfig) async throws {
        for (name, settings) in config.functions.sorted(by: { $0.key < $1.key }) {
            guard let spec = settings.lambda else { continue }
            var definition = spec.definition(name: name, memoryMB: settings.options.memoryMB)
            if definition.codeDirectory.hasSuffix(".zip") {
                definition.codeDirectory = try unpackConfigured(definition.codeDirectory, for: name)
            }
            if let problem = definition.problem() { throw ConfigError("functions.\(name): \(problem)") }
            do {
                try await start(definition, role: spec.role, replacing: false)
            } catch let error as FunctionError {
                throw ConfigError("functions.\(name): \(error.message)")
            }
            details.withLock {
                $0[name] = Details(
                    definition: definition, runtimeName: definition.runtime.rawValue, role: spec.role,
                    description: "", madeByAPI: false, codeSHA256: "", codeSize: 0, lastModified: 0)
            }
        }
    }

    /// Starts the functions made through the API in an earlier run; one that cannot start is logged and left out,
    /// and one the config file now defines gives way to it.
    func loadStored() async {
        let root = dataDirectory + "/functions"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names.sorted() {
            let path = "\(root)/\(name)/function.json"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            do {
                let stored = try JSONDecoder().decode(Stored.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                guard stored.name == name else { throw ConfigError("it names \(stored.name)") }
                if host.function(named: name) != nil {
                    logger.warning(
                        "function \(name) made through the API is not started: a function of that name is defined in the configuration"
                    )
                    continue
                }
                let (definition, detail) = try definition(of: stored)
                try await start(definition, role: stored.role, replacing: false)
                details.withLock { $0[name] = detail }
            } catch {
                logger.error("function \(name) made through the API could not be started: \(error)")
            }
        }
    }

    /// Starts (or replaces) a handler with Lambda's environment plus Plumb's endpoint and, with a role, its keys.
    private func start(_ definition: LambdaFunctionDefinition, role: String?, replacing: Bool) async throws {
        var environment = ["AWS_ENDPOINT_URL": endpointURL, "AWS_REGION": region, "AWS_DEFAULT_REGION": region]
        let key = AWSAdminKey.derive(token: token, function: definition.name)
        if let role {
            // Credentials acting as the role user: boto3 in the handler reaches Plumb with them.
            environment["AWS_ACCESS_KEY_ID"] = key.id
            environment["AWS_SECRET_ACCESS_KEY"] = key.secret
        }
        let logger = logger
        try await host.loadLambda(
            definition, runtimeAPI: { session in try await LambdaRuntimeListener.open(session, logger: logger) },
            environment: environment, functionARN: functionARN(definition.name), replacing: replacing)
        keys.withLock { keys in
            if let role { keys[key.id] = (role, key.secret) } else { keys[key.id] = nil }
        }
    }

    // MARK: - Changes through the API

    /// Makes a function from `zip`, or throws (`ResourceConflictException` when the name is taken).
    func create(_ name: String, _ spec: Spec, zip: [UInt8]) async throws -> Details {
        try await changes.withLock {
            guard LambdaFunctionDefinition.validName(name) else {
                throw Self.invalid("function name '\(name.prefix(80))' must be 1 to 64 letters, digits, - or _")
            }
            guard host.function(named: name) == nil else {
                throw FunctionError(
                    status: 409, code: "ResourceConflictException", message: "Function already exist: \(name)")
            }
            var draft = Stored(
                name: name, runtime: spec.runtimeName, handler: spec.handler, timeout: spec.timeout,
                memoryMB: spec.memoryMB, role: spec.role, description: spec.description, environment: "", code: "",
                codeSHA256: "", codeSize: 0, lastModified: 0)
            try check(draft, environment: spec.environment)
            let directory = functionDirectory(name)
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            do {
                draft.code = try unpack(zip, into: directory)
                draft.environment = try seal(spec.environment, name: name)
                draft.codeSHA256 = Self.sha256(zip)
                draft.codeSize = zip.count
                draft.lastModified = Self.now()
                let stored = draft
                let (definition, detail) = try definition(of: stored)
                try await start(definition, role: spec.role, replacing: false)
                try write(stored)
                details.withLock { $0[name] = detail }
                logger.info("function \(name) created through the API (\(spec.runtimeName) \(spec.handler))")
                return detail
            } catch {
                host.unregister(name)
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
        }
    }

    /// Changes an API-made function's configuration and/or code.
    func update(_ name: String, _ changes: Changes, zip: [UInt8]?) async throws -> Details {
        try await self.changes.withLock {
            var stored = try storedForChange(name)
            if let runtime = changes.runtimeName { stored.runtime = runtime }
            if let handler = changes.handler { stored.handler = handler }
            if let timeout = changes.timeout { stored.timeout = timeout }
            if let memory = changes.memoryMB { stored.memoryMB = memory }
            if let role = changes.role { stored.role = role }
            if let description = changes.description { stored.description = description }
            try check(stored, environment: changes.environment ?? [:])
            if let environment = changes.environment { stored.environment = try seal(environment, name: name) }
            let oldCode = stored.code
            var newCode: String?
            if let zip {
                newCode = try unpack(zip, into: functionDirectory(name))
                stored.code = newCode ?? stored.code
                stored.codeSHA256 = Self.sha256(zip)
                stored.codeSize = zip.count
            }
            do {
                stored.lastModified = Self.now()
                let (definition, detail) = try definition(of: stored)
                try await start(definition, role: stored.role, replacing: true)
                try write(stored)
                details.withLock { $0[name] = detail }
                if newCode != nil {
                    try? FileManager.default.removeItem(atPath: functionDirectory(name) + "/" + oldCode)
                }
                logger.info("function \(name) updated through the API")
                return detail
            } catch {
                if let newCode { try? FileManager.default.removeItem(atPath: functionDirectory(name) + "/" + newCode) }
                throw error
            }
        }
    }

    /// Deletes an API-made function: it stops taking invocations, its instances stop, its files are removed.
    func delete(_ name: String) async throws {
        try await changes.withLock {
            _ = try storedForChange(name)
            host.unregister(name)
            details.withLock { $0[name] = nil }
            let key = AWSAdminKey.derive(token: token, function: name)
            keys.withLock { $0[key.id] = nil }
            try? FileManager.default.removeItem(atPath: functionDirectory(name))
            logger.info("function \(name) deleted through the API")
        }
    }

    /// The stored definition of an API-made function, or why it cannot be changed here (404, or 409 for a function
    /// the config file or a plugin defines).
    private func storedForChange(_ name: String) throws -> Stored {
        guard let existing = host.function(named: name) else {
            throw FunctionError.notFound("Function not found: \(name)", code: "ResourceNotFoundException")
        }
        guard details(name)?.madeByAPI == true else {
            let owner =
                existing.pluginName == PluginHost.lambdaPlugin
                ? "the configuration file" : "the plugin \(existing.pluginName)"
            throw FunctionError(
                status: 409, code: "ResourceConflictException",
                message: "function \(name) is defined by \(owner); change it there")
        }
        let path = functionDirectory(name) + "/function.json"
        return try JSONDecoder().decode(Stored.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // MARK: - Files

    /// A config file's `code: …zip`, unzipped afresh at each start into `DATA/functions/NAME/config-code`.
    private func unpackConfigured(_ zipPath: String, for name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: zipPath) else {
            throw ConfigError("functions.\(name).code: \(zipPath) cannot be read")
        }
        let target = functionDirectory(name) + "/config-code"
        try? FileManager.default.removeItem(atPath: target)
        do { try Self.extract(Array(data), into: target) } catch {
            throw ConfigError("functions.\(name).code: \(zipPath): \(error.description)")
        }
        return target
    }

    /// Unzips `zip` into a new directory `target` (0700), which holds nothing when it fails.
    private static func extract(_ zip: [UInt8], into target: String) throws(ZipArchive.ZipError) {
        do {
            try FileManager.default.createDirectory(
                atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ZipArchive.ZipError.unwritable(target)
        }
        do throws(ZipArchive.ZipError) {
            guard try ZipArchive.extract(zip, into: target) > 0 else { throw ZipArchive.ZipError.empty }
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw error
        }
    }

    private func functionDirectory(_ name: String) -> String { dataDirectory + "/functions/" + name }

    /// Unzips `zip` into a new `code-ID` directory of `directory`; its name.
    private func unpack(_ zip: [UInt8], into directory: String) throws -> String {
        guard !zip.isEmpty, zip.count <= Self.maxZipBytes else {
            throw Self.invalid("zipFile must be 1 byte to \(Self.maxZipBytes) bytes, not \(zip.count)")
        }
        let name = "code-" + UUID().uuidString.prefix(8).lowercased()
        do { try Self.extract(zip, into: directory + "/" + name) } catch {
            throw Self.invalid("zipFile: could not unzip the function's code: \(error.description)")
        }
        return name
    }

    private func write(_ stored: Stored) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = functionDirectory(stored.name) + "/function.json"
        let temporary = path + ".tmp"
        try encoder.encode(stored).write(to: URL(fileURLWithPath: temporary))
        _ = chmod(temporary, 0o600)
        guard rename(temporary, path) == 0 else {
            throw FunctionError(
                status: 500, code: "ServiceException", message: "could not save function \(stored.name)")
        }
    }

    private func seal(_ environment: [String: String], name: String) throws -> String {
        let json = try JSONEncoder().encode(environment)
        return try secrets.seal(json, context: "lambda-environment:\(name)")
    }

    /// Refuses settings that could not run before anything is written: the runtime, the handler, the limits, the
    /// environment's names, the role.
    private func check(_ stored: Stored, environment: [String: String]) throws {
        guard let runtime = Self.runtime(stored.runtime) else { throw Self.unsupported(stored.runtime) }
        var definition = LambdaFunctionDefinition(
            name: stored.name, runtime: runtime, handler: stored.handler, codeDirectory: "")
        definition.environment = environment
        definition.timeout = stored.timeout
        definition.memoryMB = stored.memoryMB
        if let problem = definition.settingsProblem() { throw Self.invalid(problem) }
        if let role = stored.role, role.isEmpty || role.utf8.count > 64 || role.contains(where: \.isNewline) {
            throw Self.invalid("role must name an IAM user")
        }
        if stored.description.utf8.count > 256 { throw Self.invalid("description must be at most 256 bytes") }
    }

    static func unsupported(_ runtime: String) -> FunctionError {
        invalid(
            "runtime '\(runtime.prefix(40))' is not supported here: python3 or python3.N (the system's Python 3 with awslambdaric), provided, provided.al2 or provided.al2023"
        )
    }

    /// The definition a stored function runs, checked.
    private func definition(of stored: Stored) throws -> (LambdaFunctionDefinition, Details) {
        guard let runtime = Self.runtime(stored.runtime) else { throw Self.unsupported(stored.runtime) }
        let environment = try JSONDecoder().decode(
            [String: String].self,
            from: Data(try secrets.open(stored.environment, context: "lambda-environment:\(stored.name)")))
        var definition = LambdaFunctionDefinition(
            name: stored.name, runtime: runtime, handler: stored.handler,
            codeDirectory: functionDirectory(stored.name) + "/" + stored.code)
        definition.environment = environment
        definition.timeout = stored.timeout
        definition.memoryMB = stored.memoryMB
        if let problem = definition.problem() { throw Self.invalid(problem) }
        if let role = stored.role, role.isEmpty || role.utf8.count > 64 {
            throw Self.invalid("the role must name an IAM user")
        }
        return (
            definition,
            Details(
                definition: definition, runtimeName: stored.runtime, role: stored.role, description: stored.description,
                madeByAPI: true, codeSHA256: stored.codeSHA256, codeSize: stored.codeSize,
                lastModified: stored.lastModified)
        )
    }

    /// The runtime Plumb runs for a runtime name: `python3`/`python3.N` and `provided`/`provided.*`.
    static func runtime(_ name: String) -> LambdaFunctionDefinition.Runtime? {
        if name == "python3"
            || (name.hasPrefix("python3.") && name.dropFirst(8).allSatisfy(\.isNumber) && name.count > 8)
        {
            return .python3
        }
        if name == "provided" || name == "provided.al2" || name == "provided.al2023" { return .provided }
        return nil
    }

    static func invalid(_ message: String) -> FunctionError {
        FunctionError.badRequest(message, code: "InvalidParameterValueException")
    }

    static func sha256(_ bytes: [UInt8]) -> String { Data(SHA256.hash(data: bytes)).base64EncodedString() }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }
}
