import Hummingbird
import PlumbAPI
import PlumbHost

/// `/api/v1/functions…`: the hosted functions, their invocation (synchronous or queued), their async events, their
/// concurrency and their scaling. A controller: the handlers are in `+Invoke` and `+Concurrency`, bound here.
struct FunctionRoutes: Sendable {
    let host: PluginHost
    let asyncQueue: any AsyncEventStoring
    let lambdaFunctions: LambdaFunctions

    func register(api: RouterGroup<PlumbRequestContext>) {
        api.get("functions", use: list)
        api.get("functions/:name", use: get)
        api.put("functions/:name", use: putLambda)
        api.delete("functions/:name", use: deleteLambda)
        api.post("functions/:name/invoke", use: invoke)
        api.get("functions/:name/events", use: events)
        api.put("functions/:name/concurrency", use: putConcurrency)
        api.get("functions/:name/scaling", use: scaling)
    }

    @Sendable func list(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(FunctionList(functions: host.functions.map(describe), account: account))
    }

    @Sendable func get(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        try Response.json(describe(try function(context)))
    }

    /// The function of the path, or 404 (Lambda's `ResourceNotFoundException`).
    func function(_ context: PlumbRequestContext) throws -> HostedFunction {
        let name = context.parameters.get("name") ?? ""
        guard let f = host.function(named: name) else {
            throw APIError(status: 404, code: "ResourceNotFoundException", "no function named '\(name)'")
        }
        return f
    }

    func describe(_ f: HostedFunction) -> FunctionDescription {
        let pool = f.pool.snapshot
        return FunctionDescription(
            name: f.name, plugin: f.pluginName, kind: f.kind, trigger: Self.trigger(f),
            reservedConcurrency: host.limiter.reserved(f.name), provisionedConcurrency: f.scaling.provisioned,
            concurrentExecutions: host.limiter.inFlight(f.name),
            maxConcurrencyPerInstance: f.pool.perInstanceConcurrency,
            instances: pool.instances, provisionedInstances: pool.provisionedInstances,
            initializingInstances: pool.initializing,
            coldStarts: pool.coldStarts, reportLog: f.options.reportLog.rawValue, memoryMB: f.options.memoryMB,
            autoscaling: AutoscalingDescription(f.scaling.describe(activityLimit: 0)),
            lambda: lambdaFunctions.details(f.name).map(Self.describe))
    }

    static func describe(_ d: LambdaFunctions.Details) -> LambdaHandlerDescription {
        LambdaHandlerDescription(
            runtime: d.runtimeName, handler: d.definition.handler, timeout: d.definition.timeout,
            memoryMB: d.definition.memoryMB, role: d.role, environment: d.definition.environment,
            description: d.description, definedBy: d.madeByAPI ? "api" : "config",
            codeSHA256: d.madeByAPI ? d.codeSHA256 : nil, codeSize: d.madeByAPI ? d.codeSize : nil,
            lastModified: d.madeByAPI ? d.lastModified : nil)
    }

    /// How the function is reached, as people write it: `POST /apps/sentiment/analyze`, a schedule, `event`.
    static func trigger(_ f: HostedFunction) -> String {
        switch f.trigger {
        case .http(let method, let path): "\(method.rawValue) /apps/\(f.pluginName)\(path)"
        case .webSocket(let path, let route): "WebSocket /apps/\(f.pluginName)\(path) \(route)"
        case .schedule(let expression): expression
        case .event: "event"
        }
    }

    var account: AccountConcurrency {
        let s = host.limiter.snapshot
        return AccountConcurrency(
            concurrencyLimit: s.accountLimit, unreservedConcurrencyLimit: s.unreservedLimit,
            concurrentExecutions: s.inFlight, unreservedConcurrentExecutions: s.unreservedInFlight)
    }
}
