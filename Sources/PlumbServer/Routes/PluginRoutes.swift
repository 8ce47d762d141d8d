import HTTPTypes
import Hummingbird
import PlumbHost
import PlumbKit

/// Maps every HTTP function of every plugin onto `/apps/<plugin><path>` and through the host's pipeline.
struct PluginRoutes {
    let host: PluginHost
    /// Largest request body a plugin route accepts.
    var maxBodyBytes = 1_048_576

    /// Public functions go on `router`; admin functions on `admin`, a group behind the token and the audit trail.
    func register(on router: Router<PlumbRequestContext>, admin: RouterGroup<PlumbRequestContext>) {
        for function in host.functions {
            guard case .http(let method, let path) = function.trigger else { continue }
            let routePath = "/apps/\(function.pluginName)" + Self.hummingbirdPath(path)
            let parameterNames = path.split(separator: "/").compactMap { segment -> String? in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
            }
            let methods: any RouterMethods<PlumbRequestContext> = function.access == .admin ? admin : router
            methods.on(RouterPath(routePath), method: HTTPRequest.Method(rawValue: method.rawValue)!) { request, context -> Response in
                var parameters: [String: String] = [:]
                for name in parameterNames { parameters[name] = context.parameters.get(name) }
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                // The peer's address, for per-source throttles (set here, so a client cannot choose it).
                headers["x-plumb-source"] = context.remoteAddress?.ipAddress ?? "unknown"
                var input = FunctionRequest(
                    method: method, path: request.uri.path, pathParameters: parameters, query: request.queryDictionary, headers: headers)
                if function.streaming {
                    // The body is handed over as it arrives; a long-lived upload is never held whole.
                    let body = request.body
                    input.bodyStream = AsyncThrowingStream { continuation in
                        let task = Task {
                            do {
                                for try await buffer in body { continuation.yield(Array(buffer.readableBytesView)) }
                                continuation.finish()
                            } catch {
                                continuation.finish(throwing: error)
                            }
                        }
                        continuation.onTermination = { _ in task.cancel() }
                    }
                } else {
                    input.body = try await request.collectBody(limit: maxBodyBytes)
                }
                let output = try await host.invoke(function, input)
                var fields = HTTPFields()
                for (name, value) in output.headers {
                    if let n = HTTPField.Name(name) { fields[n] = value }
                }
                if let stream = output.stream {
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
                return Response(status: .init(code: output.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: output.body)))
            }
        }
    }

    /// `/comments/{id}` → `/comments/:id`.
    static func hummingbirdPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}
