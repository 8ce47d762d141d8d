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

    public init(pluginName: String, logger: Logger, database: DatabasePool, dataDirectory: String, settings: [String: String]) {
        self.pluginName = pluginName
        self.logger = logger
        self.database = database
        self.dataDirectory = dataDirectory
        self.settings = settings
    }
}

/// What the host gives one invocation.
public struct FunctionContext: Sendable {
    /// `<plugin>.<function>`.
    public let functionName: String
    public let requestID: String
    /// The plugin's logger with `function` and `request_id` metadata.
    public let logger: Logger
    public let plugin: PluginContext

    public init(functionName: String, requestID: String, logger: Logger, plugin: PluginContext) {
        self.functionName = functionName
        self.requestID = requestID
        self.logger = logger
        self.plugin = plugin
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
