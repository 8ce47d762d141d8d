/// One function of a plugin: its name, what triggers it, and the handler the host invokes.
public struct Function<P: Plugin>: Sendable {
    public let name: String
    public let trigger: Trigger
    /// Who may call it over HTTP: anyone, or only holders of the admin token.
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

    /// An HTTP function at `path` under the plugin's prefix; `{param}` segments become path parameters. With
    /// `admin: true` the host answers 401 unless the request carries the admin token, and audits the call.
    public static func http(
        _ method: HTTPMethod, _ path: String, name: String, admin: Bool = false,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .http(method: method, path: path), access: admin ? .admin : .public, handler: handler)
    }

    /// An HTTP function whose request body streams in (`request.bodyStream`): for long-lived uploads such as a device
    /// posting readings over one chunked request. Answer with `FunctionResponse.streaming` to acknowledge as you go.
    public static func streamingHTTP(
        _ method: HTTPMethod, _ path: String, name: String,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        var function = Function(name: name, trigger: .http(method: method, path: path), handler: handler)
        function.streaming = true
        return function
    }

    /// A scheduled function (`rate(3 minutes)` or `cron(…)`, EventBridge syntax, UTC), run as an async event.
    public static func scheduled(
        _ expression: String, name: String,
        handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
    ) -> Function {
        Function(name: name, trigger: .schedule(expression), handler: handler)
    }
}

/// Who may invoke an HTTP function.
public enum Access: Sendable, Equatable {
    case `public`
    case admin
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
        name: String, handler: @escaping @Sendable (P, FunctionRequest, FunctionContext) async throws -> FunctionResponse
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
    case get = "GET", post = "POST", put = "PUT", delete = "DELETE", patch = "PATCH"
}
