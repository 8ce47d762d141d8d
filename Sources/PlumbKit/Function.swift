/// One function of a plugin: its name, what triggers it, and the handler the host invokes.
public struct Function<P: Plugin>: Sendable {
    public let name: String
    public let trigger: Trigger
    /// Who may call it: the host checks it on its HTTP route and on the invoke API (schedules and topic events are
    /// the platform's own calls and are not checked).
    public let access: Access
    /// Whether the HTTP request body is handed over as it arrives (`FunctionRequest.bodyStream`) instead of whole.
    public var streaming = false
    public let handler: @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse

    public init(
        name: String, trigger: Trigger, access: Access = .public,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) {
        self.name = name
        self.trigger = trigger
        self.access = access
        self.handler = handler
    }

    /// An HTTP function at `path` under the plugin's prefix; `{param}` segments become path parameters. `access`
    /// says who may call it (see `Access`); the host answers 401/403 to anyone else and audits operator calls.
    public static func http(
        _ method: HTTPMethod, _ path: String, name: String, access: Access = .public,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .http(method: method, path: path), access: access, handler: handler)
    }

    /// An HTTP function whose request body streams in (`request.bodyStream`): for long-lived uploads such as a device
    /// posting readings over one chunked request. Answer with `FunctionResponse.streaming` to acknowledge as you go.
    public static func streamingHTTP(
        _ method: HTTPMethod, _ path: String, name: String, access: Access = .public,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        var function = Function(
            name: name, trigger: .http(method: method, path: path), access: access, handler: handler)
        function.streaming = true
        return function
    }

    /// A scheduled function (`rate(3 minutes)` or `cron(…)`, EventBridge syntax, UTC), run as an async event. Run
    /// by hand through the invoke API it is an operator's job: `.admin` unless said otherwise.
    public static func scheduled(
        _ expression: String, name: String, access: Access = .admin,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .schedule(expression), access: access, handler: handler)
    }
}

/// Who may invoke a function. Every function declares it; the host enforces it on the function's HTTP route and on
/// `POST /api/v1/functions/{name}/invoke` (schedules and topic events are the platform's own calls).
public enum Access: String, Sendable, Equatable, CaseIterable {
    /// Anyone, with no credential (a sign-up form, a public page, a device posting readings).
    case `public`
    /// A signed-in end user: an access token of the server's identity plugin (accounts), whose subject the host
    /// passes in the `x-plumb-user` header; or an operator (the admin token, or an IAM user allowed
    /// `functions:InvokeFunction` on `function/<plugin>.<function>`).
    case user
    /// Operators only: the admin token, or an IAM user allowed the function's own action
    /// (`<plugin>:<FunctionName>`, e.g. `sensors:Share`) on `function/<plugin>.<function>`.
    case admin
}

extension Access {
    /// The IAM action an admin function is called with: `sensors.lifecycle-now` → `sensors:LifecycleNow`.
    public static func adminAction(plugin: String, function: String) -> String {
        let words = function.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." })
        return plugin + ":" + words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

extension Function {
    /// A WebSocket route on the endpoint at `path` (under `/apps/<plugin>`): `$connect` when a client connects (throw
    /// to refuse it), `$disconnect` after it has gone, `$default` for a frame no other route takes, or an action name
    /// matched against the frame's JSON `action` field. A non-empty response body is sent back to the connection.
    public static func webSocket(
        _ path: String, route: String, name: String,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .webSocket(path: path, route: route), handler: handler)
    }

    /// An event function: invoked asynchronously by topics (`protocol: function`) and `invoke?type=Event`.
    public static func event(
        name: String,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .event, handler: handler)
    }
}

/// What makes the host invoke a function.
public enum Trigger: Sendable, Equatable {
    /// A synchronous HTTP request: `path` is relative to `/apps/<plugin>`.
    case http(method: HTTPMethod, path: String)
    /// A WebSocket route (`$connect`, `$disconnect`, `$default` or an action name) on the endpoint at `path`.
    case webSocket(path: String, route: String)
    /// An EventBridge-style schedule expression: `rate(5 minutes)` or `cron(0/5 * * * ? *)`.
    case schedule(String)
    /// An asynchronous event, e.g. a message published on a topic.
    case event
}

/// HTTP methods a function can answer.
public enum HTTPMethod: String, Sendable, Equatable, CaseIterable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
    case patch = "PATCH"
}
