import GRDB
import Logging

/// What the host gives a plugin instance: its logger, its database, its directory and its settings.
public struct PluginContext: Sendable {
    public let pluginName: String
    /// Logs to the log group `/plumb/plugins/<name>`.
    public let logger: Logger
    /// The plugin's own SQLite database (WAL), migrated with the plugin's migrations.
    public let database: DatabasePool
    /// A directory the plugin owns for blobs and files.
    public let dataDirectory: String
    /// The plugin's section of the config file (`plugins.<name>`), as strings.
    public let settings: [String: String]
    /// Invoking other functions and posting to WebSocket connections.
    public let host: any HostServices
    /// The plugin's object store.
    public let blobs: any BlobStoring
    /// The server's address as users reach it (`public_url`, else the listen address), without a trailing slash:
    /// every absolute URL a plugin hands out (links in mail, issuer, share URLs) starts with it.
    public let publicURL: String

    public init(
        pluginName: String, logger: Logger, database: DatabasePool, dataDirectory: String, settings: [String: String],
        host: any HostServices = NoHostServices(), blobs: any BlobStoring = NoBlobStore(),
        publicURL: String = "http://127.0.0.1:9400"
    ) {
        self.publicURL = publicURL
        self.blobs = blobs
        self.pluginName = pluginName
        self.logger = logger
        self.database = database
        self.dataDirectory = dataDirectory
        self.settings = settings
        self.host = host
    }
}

/// What the host gives one invocation.
///
/// The request id and the invocation's logger are built when first asked for, not on every call: most
/// invocations never log, and the pipeline is a hot path.
public struct FunctionContext: Sendable {
    /// `<plugin>.<function>`.
    public let functionName: String
    public let plugin: PluginContext
    let requestPrefix: String
    let requestNumber: UInt64

    public init(functionName: String, requestPrefix: String, requestNumber: UInt64, plugin: PluginContext) {
        self.functionName = functionName
        self.requestPrefix = requestPrefix
        self.requestNumber = requestNumber
        self.plugin = plugin
    }

    /// Unique among the invocations of this server process: `<boot prefix>-<counter in hex>`.
    public var requestID: String { requestPrefix + "-" + String(requestNumber, radix: 16) }

    /// The plugin's logger with `function` and `request_id` metadata.
    public var logger: Logger {
        var logger = plugin.logger
        logger[metadataKey: "function"] = .string(functionName)
        logger[metadataKey: "request_id"] = .string(requestID)
        return logger
    }
}

/// A schema step of a plugin database.
public struct PluginMigration: Sendable {
    public let identifier: String
    public let apply: @Sendable (Database) throws -> Void

    public init(_ identifier: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.identifier = identifier
        self.apply = apply
    }
}
