import Foundation
import PlumbAPI
import PlumbAWS
import PlumbHost
import PlumbKit
import PlumbLogs
import Synchronization

/// The Lambda API's view of the plugin host: an invocation is the one `POST /api/v1/functions/{name}/invoke` makes (an
/// HTTP function gets the payload as its JSON body, its response body is the payload returned); a function that
/// fails answers Lambda's `FunctionError: Unhandled` with `errorMessage`/`errorType`; the log tail is the
/// invocation's lines in the function's log group.
struct HostLambdaBackend: AWSLambdaBackend {
    let host: PluginHost
    let asyncQueue: any AsyncEventStoring
    let logs: any LogStoring
    let logSink: LogSink?
    let lambdaFunctions: LambdaFunctions

    func functions() -> [AWSLambdaFunction] { host.functions.map(describe) }

    func function(named name: String) -> AWSLambdaFunction? { host.function(named: name).map(describe) }

    func describe(_ f: HostedFunction) -> AWSLambdaFunction {
        AWSLambdaFunction(
            name: f.name, plugin: f.pluginName, memoryMB: f.options.memoryMB, trigger: FunctionRoutes.trigger(f),
            reserved: host.limiter.reserved(f.name), provisioned: f.scaling.provisioned,
            provisionedInstances: f.pool.snapshot.provisionedInstances,
            handler: lambdaFunctions.details(f.name).map {
                AWSLambdaHandler(
                    runtime: $0.runtimeName, handler: $0.definition.handler, timeout: $0.definition.timeout,
                    role: $0.role, environment: $0.definition.environment, description: $0.description,
                    madeByAPI: $0.madeByAPI, codeSHA256: $0.codeSHA256, codeSize: $0.codeSize,
                    lastModified: $0.lastModified)
            })
    }

    func createFunction(_ name: String, _ settings: AWSLambdaSettings, zip: [UInt8]) async throws {
        var spec = LambdaFunctions.Spec(runtimeName: settings.runtime ?? "", handler: settings.handler ?? "")
        spec.timeout = settings.timeout ?? spec.timeout
        spec.memoryMB = settings.memoryMB ?? spec.memoryMB
        spec.role = settings.role ?? nil
        spec.environment = settings.environment ?? [:]
        spec.description = settings.description ?? ""
        try await Self.mapped { _ = try await lambdaFunctions.create(name, spec, zip: zip) }
    }

    func updateFunction(_ name: String, _ settings: AWSLambdaSettings, zip: [UInt8]?) async throws {
        let changes = LambdaFunctions.Changes(
            runtimeName: settings.runtime, handler: settings.handler, timeout: settings.timeout,
            memoryMB: settings.memoryMB, role: settings.role, environment: settings.environment,
            description: settings.description)
        try await Self.mapped { _ = try await lambdaFunctions.update(name, changes, zip: zip) }
    }

    func deleteFunction(_ name: String) async throws {
        try await Self.mapped { try await lambdaFunctions.delete(name) }
    }

    /// The registry's errors as Lambda's (their codes are already Lambda's).
    static func mapped(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let error as FunctionError {
            throw AWSError(code: error.code, error.message, status: error.status)
        }
    }

    func invoke(_ name: String, payload: [UInt8], logTail: Bool) async throws -> AWSLambdaResult {
        guard let f = host.function(named: name) else {
            throw AWSError(code: "ResourceNotFoundException", "Function not found: \(name)", status: 404)
        }
        let requestID = Mutex<String?>(nil)
        let started = Date()
        var result: AWSLambdaResult
        var handlerLines: String?
        do {
            let response = try await host.invoke(
                f,
                FunctionRequest(method: .post, path: "/", headers: ["content-type": "application/json"], body: payload),
                started: { id in requestID.withLock { $0 = id } })
            result = AWSLambdaResult(payload: response.body)
            handlerLines = response.headers[LambdaInstanceHeaders.logLines].flatMap {
                Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) }
            }
            if response.status >= 500 {
                result.functionError = "Unhandled"
                if (try? JSONValue.parse(response.body)) == nil {
                    result.payload = Self.errorPayload(String(decoding: response.body, as: UTF8.self), type: "Error")
                }
            }
        } catch let error as FunctionError where error.status == 429 {
            throw AWSError(
                code: "TooManyRequestsException", "\(error.message) (\(error.reason ?? "throttled"))", status: 429)
        } catch let error as FunctionError {
            result = AWSLambdaResult(
                payload: Self.errorPayload(error.message, type: error.code), functionError: "Unhandled")
        }
        if logTail, let id = requestID.withLock({ $0 }) {
            result.logTail =
                f.pluginName == PluginHost.lambdaPlugin
                ? try await lambdaTail(of: f, requestID: id, lines: handlerLines, since: started)
                : try await tail(of: f, requestID: id, since: started)
        }
        return result
    }

    static func errorPayload(_ message: String, type: String) -> [UInt8] {
        let error: JSONValue = .object(["errorMessage": .string(message), "errorType": .string(type)])
        return (try? JSONEncoder().encode(error)).map { [UInt8]($0) } ?? []
    }

    /// The invocation's lines in the plugin's log group (its REPORT line among them when the function logs one),
    /// once the log sink has written what the invocation logged.
    func tail(of f: HostedFunction, requestID: String, since: Date) async throws -> String {
        try await logSink?.flush()
        // The handler's JSON lines carry the request id in their metadata: matched exactly (a quoted term would match
        // every request id it is a prefix of).
        let pattern = try FilterPattern("{ $.metadata.request_id = \"\(requestID)\" }")
        let page = try await logs.filter(
            LogQuery(
                group: PlumbLogHandler.group(for: "plumb.plugins.\(f.pluginName)"), pattern: pattern,
                start: Int64(since.timeIntervalSince1970 * 1_000) - 1_000, limit: 200))
        // Each stored line is the handler's JSON (`{"level", "message", …}`): the tail shows the messages, framed by
        // Lambda's START and END lines (the REPORT line is among them when the function's `report_log` writes it).
        let lines = page.events.map { event in
            let text = (try? JSONValue.parse(Array(event.message.utf8)))?.object?["message"]?.string ?? event.message
            return text + "\n"
        }
        let report = lines.filter { $0.hasPrefix("REPORT ") }
        return "START RequestId: \(requestID) Version: $LATEST\n" + lines.filter { !$0.hasPrefix("REPORT ") }.joined()
            + "END RequestId: \(requestID)\n" + report.joined()
    }

    /// A Lambda handler's tail: START, the lines its runtime wrote during the invocation (captured by its instance),
    /// END, and the REPORT line from `/aws/lambda/NAME`.
    func lambdaTail(of f: HostedFunction, requestID: String, lines: String?, since: Date) async throws -> String {
        try await logSink?.flush()
        let page = try await logs.filter(
            LogQuery(
                group: "/aws/lambda/" + f.name, pattern: try FilterPattern("\"REPORT RequestId: \(requestID) \""),
                start: Int64(since.timeIntervalSince1970 * 1_000) - 1_000, limit: 1))
        let body = lines.map { $0.isEmpty ? "" : $0 + "\n" } ?? ""
        return "START RequestId: \(requestID) Version: $LATEST\n" + body + "END RequestId: \(requestID)\n"
            + page.events.map { $0.message + "\n" }.joined()
    }

    func adminAction(of name: String) -> String? {
        guard let f = host.function(named: name), f.access == .admin else { return nil }
        return f.adminAction
    }

    func enqueue(_ name: String, payload: [UInt8]) async throws -> String {
        try await host.enqueueAsyncEvent(function: name, payload: payload, on: asyncQueue)
        return UUID().uuidString.lowercased()
    }

    func setReserved(_ name: String, _ value: Int?) async throws {
        do { try host.setReservedConcurrency(name, value) } catch let error as any HTTPResponseError {
            throw AWSError(code: "InvalidParameterValueException", error.message)
        }
    }

    func setProvisioned(_ name: String, _ value: Int) async throws {
        do { try await host.setProvisionedConcurrency(name, value) } catch let error as any HTTPResponseError {
            throw AWSError(code: "InvalidParameterValueException", error.message)
        }
    }

    func accountLimits() -> (concurrent: Int, unreserved: Int) {
        let s = host.limiter.snapshot
        return (s.accountLimit, s.unreservedLimit)
    }
}
