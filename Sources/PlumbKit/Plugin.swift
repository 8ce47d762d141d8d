/// A workload hosted by Plumb: a named set of functions sharing one database and one logger.
///
/// The host creates instances with `init(context:)` — that is the cold start: load a lexicon or a model, prepare
/// statements — and then routes invocations to them. A plugin never sees HTTP, WebSocket frames, schedules or
/// topics directly: each function declares a `Trigger` and the host maps the transport onto it, which is what
/// makes every function instrumented and throttleable.
public protocol Plugin: Sendable {
    /// Short lowercase name: routes live under `/apps/<name>`, functions are `<name>.<function>`.
    static var name: String { get }
    /// Schema steps of the plugin's own database, applied in order before the first instance starts.
    static var migrations: [PluginMigration] { get }
    /// Every function the plugin offers.
    static var functions: [Function<Self>] { get }

    /// Creates an instance (a cold start).
    init(context: PluginContext) async throws

    /// Runs once per server start, after the migrations and before any instance: clean up what a previous run left
    /// (e.g. connection rows of a server that crashed). Instances come and go with the autoscaler; this does not.
    static func prepare(context: PluginContext) async throws

    /// The topics the plugin publishes to (its settings may name them): the server creates those missing at start,
    /// so a fresh install delivers a plugin's notifications as soon as someone subscribes.
    static func topics(context: PluginContext) -> [String]
}

extension Plugin {
    public static var migrations: [PluginMigration] { [] }
    public static func prepare(context: PluginContext) async throws {}
    public static func topics(context: PluginContext) -> [String] { [] }
}
