import HTTPTypes
import Hummingbird
import PlumbHost
import PlumbKit
import ServiceLifecycle

/// Maps every HTTP function of every plugin onto `/apps/<plugin><path>` and through the host's pipeline.
struct PluginRoutes {
    let host: PluginHost
    let callers: CallerResolver
    let iamSettings: ServerConfig.IAMSettings
    /// Largest request body a plugin route accepts.
    var maxBodyBytes = 1_048_576

    /// Every HTTP function gets its route behind its declared access (`FunctionAccessMiddleware`); calls of
    /// non-public functions also go to the audit trail.
    func register(on router: Router<PlumbRequestContext>, audit: AuditMiddleware) {
        for function in host.functions {
            guard case .http(let method, let path) = function.trigger else { continue }
            let routePath = "/apps/\(function.pluginName)" + Self.hummingbirdPath(path)
            let parameterNames = path.split(separator: "/").compactMap { segment -> String? in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
            }
            let group = function.access == .public ? router.group() : router.group().add(middleware: audit)
            let methods = group.add(
                middleware: FunctionAccessMiddleware(function: function, callers: callers, settings: iamSettings))
            methods.on(RouterPath(routePath), method: HTTPRequest.Method(rawValue: method.rawValue)!) {
                request, context in
                try await invoke(function, method: method, parameterNames: parameterNames, request, context: context)
            }
        }
    }

    /// One call of `function`: the request as the function sees it, through the host's pipeline, and its answer.
    func invoke(
        _ function: HostedFunction, method: PlumbKit.HTTPMethod, parameterNames: [String], _ request: Request,
        context: PlumbRequestContext
    ) async throws -> Response {
        var parameters: [String: String] = [:]
        for name in parameterNames { parameters[name] = context.parameters.get(name) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        // The peer's address, for per-source throttles, and the end user the host vouched for: set here, so a
        // client cannot choose them.
        headers["x-plumb-source"] = context.remoteAddress?.ipAddress ?? "unknown"
        headers["x-plumb-user"] = nil
        if case .endUser(let user) = context.caller { headers["x-plumb-user"] = user.subject }
        var input = FunctionRequest(
            method: method, path: request.uri.path, pathParameters: parameters, query: request.queryDictionary,
            headers: headers)
        if function.streaming {
            input.bodyStream = Self.bodyStream(request.body)
        } else {
            input.body = try await request.collectBody(limit: maxBodyBytes)
        }
        return Self.response(try await host.invoke(function, input))
    }

    /// The body handed over as it arrives, so a long-lived upload is never held whole. On shutdown the stream ends
    /// as if the client had finished, so the function acknowledges what it has and returns.
    static func bodyStream(_ body: RequestBody) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await withGracefulShutdownHandler {
                        for try await buffer in body { continuation.yield(Array(buffer.readableBytesView)) }
                    } onGracefulShutdown: {
                        continuation.finish()
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The function's answer as an HTTP response, streamed when the function streams it.
    static func response(_ output: FunctionResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in output.headers {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        guard let stream = output.stream else {
            return Response(
                status: .init(code: output.status), headers: fields,
                body: .init(byteBuffer: ByteBuffer(bytes: output.body)))
        }
        let (pieces, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        Task {
            do {
                try await stream { bytes in continuation.yield(ByteBuffer(bytes: bytes)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return Response(status: .init(code: output.status), headers: fields, body: ResponseBody(asyncSequence: pieces))
    }

    /// `/comments/{id}` → `/comments/:id`.
    static func hummingbirdPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}
