import Foundation
import Logging
import PlumbKit

/// Where a runtime reaches its session: the address for `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:PORT`, a listener of
/// the instance's own) and how to close it.
public struct LambdaRuntimeEndpoint: Sendable {
    public var address: String
    public var close: @Sendable () -> Void

    public init(address: String, close: @escaping @Sendable () -> Void) {
        self.address = address
        self.close = close
    }
}

/// The headers a Lambda handler's answer carries for the server.
public enum LambdaInstanceHeaders {
    /// The lines the runtime wrote during the invocation, base64 (for `LogType: Tail`), at most 4 KB of them.
    public static let logLines = "x-plumb-log-lines"
}

extension PluginHost {
    /// The plugin name Lambda handlers are registered under.
    public static let lambdaPlugin = "lambda"
}

/// Opens a session's Runtime API listener (the server's HTTP side).
public typealias LambdaRuntimeAPI = @Sendable (LambdaRuntimeSession) async throws -> LambdaRuntimeEndpoint

/// An invocation that cost its instance (a timeout killed the process, or the process died): the pool retires the
/// instance, and the caller gets `error`.
public struct InstanceLost: Error, Sendable {
    public var error: FunctionError
}

/// One execution environment of a Lambda function: its runtime process, its session and its listener. One
/// invocation at a time (the pool's per-instance concurrency is 1); dropped, it kills the process.
final class LambdaInstance: Sendable {
    let definition: LambdaFunctionDefinition
    let session: LambdaRuntimeSession
    let process: LambdaProcess
    let endpoint: LambdaRuntimeEndpoint
    let functionARN: String

    /// Starts a runtime and waits for its init (at most 10 s, Lambda's init limit); throws why it failed.
    static func start(
        _ definition: LambdaFunctionDefinition, runtimeAPI: LambdaRuntimeAPI, environment: [String: String],
        functionARN: String, logger: Logger
    ) async throws -> LambdaInstance {
        let session = LambdaRuntimeSession()
        let endpoint = try await runtimeAPI(session)
        let process: LambdaProcess
        do {
            process = try LambdaProcess(
                definition, runtimeAPI: endpoint.address, session: session, environment: environment, logger: logger)
        } catch {
            endpoint.close()
            throw FunctionError(
                status: 500, code: "InitError", message: "the runtime could not be started: \(error)")
        }
        let instance = LambdaInstance(
            definition: definition, session: session, process: process, endpoint: endpoint, functionARN: functionARN)
        do {
            // The limit ends the session itself: a waiting continuation does not answer cancellation, and a task
            // group waits for every child.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await session.ready() }
                group.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    if !Task.isCancelled { session.end(.init(reason: "the runtime's init took over 10 s")) }
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch let ended as LambdaRuntimeSession.Ended {
            _ = process.output.captured()
            process.kill()
            session.end(ended)
            let detail = ended.initError.map { String(decoding: $0, as: UTF8.self) } ?? ended.reason
            logger.error("INIT_REPORT Status: error \(detail)")
            throw FunctionError(status: 500, code: "InitError", message: detail)
        }
        return instance
    }

    private init(
        definition: LambdaFunctionDefinition, session: LambdaRuntimeSession, process: LambdaProcess,
        endpoint: LambdaRuntimeEndpoint, functionARN: String
    ) {
        self.definition = definition
        self.session = session
        self.process = process
        self.endpoint = endpoint
        self.functionARN = functionARN
    }

    /// Whether its runtime process is still running.
    var isAlive: Bool { process.exitReason == nil }

    deinit {
        process.kill()
        session.end(.init(reason: "the instance was reclaimed"))
        endpoint.close()
    }

    /// One invocation: the request body is the event (`{}` when empty); the runtime's response is the answer's
    /// body, its error Lambda's error JSON in a 500 marked `X-Amz-Function-Error: Unhandled`. Past the timeout the
    /// process is killed and the instance lost.
    func invoke(_ request: FunctionRequest, _ context: FunctionContext) async throws -> FunctionResponse {
        let timeout = definition.timeout
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        // Through its HTTP route (the server's route handler sets the caller's source), the event is API Gateway's.
        var proxied: String?
        if case .http(_, let resource) = definition.trigger, request.headers["x-plumb-source"] != nil {
            proxied = resource
        }
        let payload =
            proxied.map { LambdaAPIGateway.event(request, resource: $0, requestID: context.requestID) }
            ?? (request.body.isEmpty ? Array("{}".utf8) : request.body)
        let invocation = LambdaRuntimeSession.Invocation(
            requestID: context.requestID, payload: payload,
            deadline: now + Int64(timeout) * 1_000, functionARN: functionARN,
            traceID: Self.traceID(seconds: now / 1_000),
            clientContext: request.headers["x-amz-client-context"])
        context.logger.info("START RequestId: \(context.requestID) Version: $LATEST")
        process.output.capture()
        // The runtime's lines are read before END, so they sit between START and END in the log group.
        defer { context.logger.info("END RequestId: \(context.requestID)") }
        let session = self.session
        let outcome: LambdaRuntimeSession.Outcome
        do {
            // Past the timeout the session is ended, which wakes the invocation's wait (a continuation does not
            // answer cancellation, and the group waits for both children).
            outcome = try await withThrowingTaskGroup(of: LambdaRuntimeSession.Outcome?.self) { group in
                group.addTask { try await session.invoke(invocation) }
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    if !Task.isCancelled { session.end(.init(reason: "timeout")) }
                    return nil
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let outcome = next { return outcome }
                }
                throw LambdaRuntimeSession.Ended(reason: "timeout")
            }
        } catch let ended as LambdaRuntimeSession.Ended {
            process.kill()
            session.end(ended)
            let message =
                ended.reason == "timeout"
                ? "\(Self.timestamp()) \(context.requestID) Task timed out after \(timeout).00 seconds"
                : "RequestId: \(context.requestID) Error: \(process.exitReason.map { "Runtime exited with error: \($0)" } ?? ended.reason)"
            context.logger.info("\(message)")
            // A session ended by the process's exit has its verdict already (set before the session ends).
            let code =
                ended.reason == "timeout"
                ? "Sandbox.Timedout" : process.outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError"
            throw InstanceLost(error: FunctionError(status: 500, code: code, message: message))
        }
        let lines = Array(process.output.captured().joined(separator: "\n").utf8.suffix(4_096))
        var headers = [
            "content-type": "application/json", LambdaInstanceHeaders.logLines: Data(lines).base64EncodedString(),
        ]
        switch outcome {
        case .response(let body):
            if proxied != nil { return LambdaAPIGateway.response(body) }
            return FunctionResponse(status: 200, headers: headers, body: body)
        case .error(_, let body):
            // API Gateway answers a failed proxy integration 502; the error is in the log group.
            if proxied != nil { return LambdaAPIGateway.malformed }
            headers["x-amz-function-error"] = "Unhandled"
            return FunctionResponse(status: 500, headers: headers, body: body)
        }
    }

    /// X-Ray's trace header: `Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>;Parent=<64 bits, 16 hex>;Sampled=0`.
    static func traceID(seconds: Int64) -> String {
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
        }
        let epoch = hex(UInt64(max(0, seconds)), 8)
        let root = hex(UInt64.random(in: 0...UInt64(UInt32.max)), 8) + hex(UInt64.random(in: .min ... .max), 16)
        return "Root=1-\(epoch)-\(root);Parent=\(hex(UInt64.random(in: .min ... .max), 16));Sampled=0"
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
