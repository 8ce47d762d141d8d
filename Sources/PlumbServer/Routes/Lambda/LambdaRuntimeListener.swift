import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PlumbHost
import Synchronization

/// The Lambda Runtime API of one process instance, on a loopback listener of its own (`AWS_LAMBDA_RUNTIME_API`),
/// as Lambda serves each execution environment: `GET /2018-06-01/runtime/invocation/next` (a long poll),
/// `POST …/invocation/{id}/response`, `POST …/invocation/{id}/error` and `POST …/init/error`, with Lambda's
/// headers. It answers only on 127.0.0.1, on a port of its own; a process of the same host that finds the port can
/// reach it, as any local listener (the runtimes run as the server's user).
enum LambdaRuntimeListener {
    /// A response or error body's limit (Lambda's 6 MB synchronous payload).
    static let maxBodyBytes = 6 * 1_048_576

    /// Starts the listener for `session`; its address once it is accepting.
    static func open(_ session: LambdaRuntimeSession, logger: Logger) async throws -> LambdaRuntimeEndpoint {
        let router = Router(context: RuntimeRequestContext.self)
        router.add(middleware: RuntimePeerMiddleware(session: session))
        router.get("/2018-06-01/runtime/invocation/next") { _, _ -> Response in
            guard let invocation = await session.next() else {
                // The session ended (the instance is going): the runtime is told, and is killed anyway.
                return Response(status: .gone)
            }
            var headers: HTTPFields = [
                .contentType: "application/json",
                HTTPField.Name("Lambda-Runtime-Aws-Request-Id")!: invocation.requestID,
                HTTPField.Name("Lambda-Runtime-Deadline-Ms")!: String(invocation.deadline),
                HTTPField.Name("Lambda-Runtime-Invoked-Function-Arn")!: invocation.functionARN,
                HTTPField.Name("Lambda-Runtime-Trace-Id")!: invocation.traceID,
            ]
            if let context = invocation.clientContext {
                headers[HTTPField.Name("Lambda-Runtime-Client-Context")!] = context
            }
            if let identity = invocation.cognitoIdentity {
                headers[HTTPField.Name("Lambda-Runtime-Cognito-Identity")!] = identity
            }
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: invocation.payload)))
        }
        router.post("/2018-06-01/runtime/invocation/:id/response") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let body = try await Self.body(request) else {
                // Lambda fails an invocation whose response is over its limit.
                try? session.fail(
                    requestID: id, type: "Function.ResponseSizeTooLarge",
                    body: Array(
                        #"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#
                            .utf8))
                return Self.json(
                    .contentTooLarge,
                    #"{"errorMessage":"the response is over 6 MB","errorType":"RequestEntityTooLarge"}"#)
            }
            return Self.accepted { () throws(LambdaRuntimeSession.Refused) in
                try session.respond(requestID: id, body: body)
            }
        }
        router.post("/2018-06-01/runtime/invocation/:id/error") { request, context -> Response in
            let body = try await Self.body(request) ?? Array(#"{"errorMessage":"the error is over 6 MB"}"#.utf8)
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            let id = context.parameters.get("id") ?? ""
            return Self.accepted { () throws(LambdaRuntimeSession.Refused) in
                try session.fail(requestID: id, type: type, body: body)
            }
        }
        router.post("/2018-06-01/runtime/init/error") { request, _ -> Response in
            let body = try await Self.body(request) ?? Array(#"{"errorMessage":"the error is over 6 MB"}"#.utf8)
            let type = request.headers[HTTPField.Name("Lambda-Runtime-Function-Error-Type")!]
            return Self.accepted { () throws(LambdaRuntimeSession.Refused) in
                try session.initError(type: type, body: body)
            }
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task {
            do { try await app.run() } catch { logger.debug("runtime API listener ended: \(error)") }
            portContinuation.finish()
        }
        var port = 0
        for await value in ports { port = value }
        guard port > 0 else {
            task.cancel()
            throw LambdaRuntimeSession.Ended(reason: "the Runtime API listener could not start")
        }
        return LambdaRuntimeEndpoint(address: "127.0.0.1:\(port)", close: { task.cancel() })
    }

    /// A request's context: where it came from and which port it reached.
    struct RuntimeRequestContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let channel: any Channel
        let clientPort: Int?
        let serverPort: Int?

        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            channel = source.channel
            clientPort = source.channel.remoteAddress?.port
            serverPort = source.channel.localAddress?.port
        }
    }

    /// Takes requests from the instance's runtime process and its descendants only (`LambdaRuntimePeer`); anyone
    /// else on the host is refused 403. A connection is checked once, on its first request, and remembered (its
    /// channel held) until it closes, so a kept-alive connection costs one look at the socket table.
    struct RuntimePeerMiddleware: RouterMiddleware {
        typealias Context = RuntimeRequestContext
        let session: LambdaRuntimeSession
        let verified = VerifiedConnections()

        func handle(
            _ request: Request, context: Context, next: (Request, Context) async throws -> Response
        ) async throws -> Response {
            if verified.contains(context.channel) { return try await next(request, context) }
            guard let client = context.clientPort, let server = context.serverPort, let pid = session.runtimePID,
                let inode = LambdaRuntimePeer.socketInode(clientPort: client, serverPort: server),
                LambdaRuntimePeer.isHeld(inode, by: pid)
            else {
                return LambdaRuntimeListener.json(
                    .forbidden,
                    #"{"errorMessage":"only this instance's runtime process may use its Runtime API","errorType":"Forbidden"}"#
                )
            }
            verified.insert(context.channel)
            return try await next(request, context)
        }
    }

    /// The connections found to be the runtime's, each held until it closes (so its identity is not reused).
    final class VerifiedConnections: Sendable {
        let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

        func contains(_ channel: any Channel) -> Bool {
            channels.withLock { $0[ObjectIdentifier(channel)] != nil }
        }

        func insert(_ channel: any Channel) {
            let key = ObjectIdentifier(channel)
            channels.withLock { $0[key] = channel }
            channel.closeFuture.whenComplete { [weak self] _ in self?.channels.withLock { $0[key] = nil } }
        }
    }

    /// The body, or nil when it is over `maxBodyBytes`.
    static func body(_ request: Request) async throws -> [UInt8]? {
        do {
            return Array(buffer: try await request.body.collect(upTo: maxBodyBytes))
        } catch is NIOTooManyBytesError {
            return nil
        }
    }

    /// 202 `{"status":"OK"}`, or the session's refusal with its status.
    static func accepted(_ work: () throws(LambdaRuntimeSession.Refused) -> Void) -> Response {
        do {
            try work()
            return json(.accepted, #"{"status":"OK"}"#)
        } catch {
            let message = error.message.replacingOccurrences(of: "\"", with: "'")
            return json(
                .init(code: error.status), #"{"errorMessage":"\#(message)","errorType":"InvalidRequestID"}"#)
        }
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
