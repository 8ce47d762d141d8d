import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PlumbAPI
import PlumbAWS
import PlumbAuth
import PlumbHost
import PlumbIAM
import PlumbLogs
import PlumbNotify
import ServiceLifecycle

/// The AWS APIs on Plumb's listener: `POST /` with `X-Amz-Target` (AWS JSON 1.0/1.1), signed with SigV4 by an
/// access key Plumb knows. The answers, errors included, are in AWS's shapes, not Plumb's.
struct AWSRoutes {
    let endpoint: AWSEndpoint
    let snsMessages: SNSMessages

    func register(on router: Router<PlumbRequestContext>) {
        // The certificate SNS-format messages are signed with (their `SigningCertURL`), for anyone who verifies them.
        router.get("/sns/:certificate", use: certificate)
        router.post("/", use: handle)
        // Smithy RPC v2 CBOR (CloudWatch from the Java and Go SDKs) names the service and operation in the path.
        router.post("/service/:service/operation/:operation", use: handle)
        // Lambda's REST-JSON operations, by method and path (the API version each operation's model gives).
        for (method, path) in Self.lambdaRoutes { router.on(RouterPath(path), method: method, use: handle) }
    }

    /// The Lambda API's routes (Invoke, ListFunctions, GetFunction, GetFunctionConfiguration, CreateFunction,
    /// UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction, the concurrency operations,
    /// GetAccountSettings).
    static let lambdaRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/2015-03-31/functions"), (.post, "/2015-03-31/functions"), (.get, "/2015-03-31/functions/:name"),
        (.delete, "/2015-03-31/functions/:name"), (.put, "/2015-03-31/functions/:name/code"),
        (.put, "/2015-03-31/functions/:name/configuration"),
        (.get, "/2015-03-31/functions/:name/configuration"), (.post, "/2015-03-31/functions/:name/invocations"),
        (.put, "/2017-10-31/functions/:name/concurrency"), (.delete, "/2017-10-31/functions/:name/concurrency"),
        (.get, "/2019-09-30/functions/:name/concurrency"),
        (.put, "/2019-09-30/functions/:name/provisioned-concurrency"),
        (.get, "/2019-09-30/functions/:name/provisioned-concurrency"),
        (.delete, "/2019-09-30/functions/:name/provisioned-concurrency"), (.get, "/2016-08-19/account-settings"),
    ]

    @Sendable func certificate(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        guard "/sns/" + (context.parameters.get("certificate") ?? "") == snsMessages.certificatePath else {
            throw APIError(status: 404, code: "NotFound", "no such signing certificate here")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-pem-file"
        headers[.cacheControl] = "public, max-age=86400"
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: snsMessages.certificatePEM)))
    }

    @Sendable func handle(_ request: Request, context: PlumbRequestContext) async throws -> Response {
        var headers: [(name: String, value: String)] = request.headers.map { ($0.name.canonicalName, $0.value) }
        // HTTP/1's Host header arrives as the authority; the signature covers it as `host`.
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append(("host", authority))
        }
        var source = "unknown"
        if let address = context.remoteAddress {
            source = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
        }
        var received = AWSRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: [], source: source)
        let answer: AWSResponse
        do {
            let body = try await request.body.collect(
                upTo: AWSEndpoint.bodyLimit(method: request.method.rawValue, path: request.uri.path))
            received.body = Array(buffer: body)
            answer = await endpoint.handle(received)
        } catch is NIOTooManyBytesError {
            answer = endpoint.reject(
                AWSError(
                    code: "RequestEntityTooLarge",
                    "the request body is over \(AWSEndpoint.bodyLimit(method: request.method.rawValue, path: request.uri.path)) bytes",
                    status: 413),
                request: received)
        }
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        if let stream = answer.stream {
            return Response(
                status: .init(code: answer.status), headers: fields,
                body: ResponseBody(asyncSequence: Self.eventStream(first: answer.body, stream)))
        }
        return Response(
            status: .init(code: answer.status), headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

extension AWSRoutes {
    /// An event stream's bytes: `first`, then what `stream` writes. The writer runs in a task of its own, ended when
    /// the client goes away (the sequence is dropped), when it stops reading (eight messages wait unread), when the
    /// stream ends, or when the server shuts down.
    static func eventStream(
        first: [UInt8],
        _ stream: @escaping @Sendable (_ write: @Sendable ([UInt8]) async throws -> Void) async throws -> Void
    ) -> AsyncThrowingStream<ByteBuffer, any Error> {
        // A client that stops reading fills the buffer: its session then ends rather than queueing for hours.
        let (events, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream(
            bufferingPolicy: .bufferingOldest(8))
        continuation.yield(ByteBuffer(bytes: first))
        let writer = Task {
            do {
                try await withGracefulShutdownHandler {
                    try await stream { bytes in
                        guard case .enqueued = continuation.yield(ByteBuffer(bytes: bytes)) else {
                            throw CancellationError()
                        }
                    }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in writer.cancel() }
        return events
    }
}

extension PlumbServer {
    /// A user's policies decide an AWS operation by Plumb's action for the same work (`metrics:PutMetricData`) or
    /// by AWS's name for it (`cloudwatch:PutMetricData`), on Plumb's resource (`metric/*`, `topic/NAME`): an explicit
    /// Deny of either refuses, else an Allow of either lets it through.
    static func requireAllowed(
        _ principal: IAMPrincipal, action: String, awsAction: String?, resource: String
    ) throws {
        let plumb = PolicyEvaluator.evaluate(principal.policies, action: action, resource: resource)
        guard let awsAction, awsAction.lowercased() != action.lowercased() else {
            return try CallerResolver.requireAllowed(principal, action: action, resource: resource)
        }
        let aws = PolicyEvaluator.evaluate(principal.policies, action: awsAction, resource: resource)
        let deciding =
            [plumb, aws].first { $0.outcome == .explicitDeny } ?? [plumb, aws].first { $0.allowed } ?? plumb
        guard deciding.allowed else {
            throw APIError(
                status: 403, code: "AccessDenied",
                "user \(principal.user) may not \(action) (\(awsAction)) on \(resource): \(deciding.explanation)")
        }
    }

    /// The check of a function an SNS subscription or an EventBridge target would run: it exists, the caller may
    /// invoke it, and an operator-only function's own action too (as through Plumb's topic API).
    static func functionTarget(_ host: PluginHost) -> @Sendable (String, AWSCaller) throws -> Void {
        { function, caller in
            guard let hosted = host.function(named: function) else {
                throw AWSError(code: "InvalidParameter", "Invalid parameter: no function named '\(function)'")
            }
            try caller.authorize("functions:InvokeFunction", "function/\(function)")
            if hosted.access == .admin { try caller.authorize(hosted.adminAction, "function/\(function)") }
        }
    }

    /// The principal a Lambda handler's key acts as: its role user's policies and groups; nil when the user does
    /// not exist or is disabled (the handler's calls are then refused as an unknown key's).
    static func rolePrincipal(_ role: String, iam: IAM) async throws -> IAMPrincipal? {
        guard let user = try await iam.users().first(where: { $0.name == role }), !user.disabled else { return nil }
        return IAMPrincipal(user: role, policies: try await iam.policies(ofUser: role), groups: user.groups)
    }

    /// The admin's AWS access key (derived from the admin token; written to `aws.credentials`).
    public var awsAccessKey: (id: String, secret: String) {
        let key = AWSAdminKey.derive(token: token)
        return (key.id, key.secret)
    }

    /// The AWS endpoint over this server's stores, with the admin's access key.
    public func makeAWSEndpoint() -> AWSEndpoint {
        let adminKey = AWSAdminKey.derive(token: token)
        let lambdaFunctions = lambdaFunctions
        let logs = logs
        let logger = logger
        let iam = iam
        let settings = config.iam
        let access = AWSAccess(
            caller: { accessKey in
                if AdminToken.matches(Substring(accessKey), adminKey.id) {
                    return AWSCaller(
                        user: "admin-token", secret: adminKey.secret, isAdmin: true,
                        authorize: { _, _ in
                            // One request counted per operation: its own check, not the checks after it.
                            if let operation = AWSOperation.current, operation.take() != nil, operation.countOnce() {
                                UsageCounters.apiRequest(user: "admin-token")
                            }
                        })
                }
                // An IAM user's key, or a Lambda handler's (acting as its role user): the user's policies decide each
                // operation, as for their API token.
                let found: (principal: IAMPrincipal, secret: String)?
                if accessKey.count == 20, accessKey.hasPrefix("PKLF"),
                    let function = lambdaFunctions.role(ofKey: accessKey)
                {
                    found = try await Self.rolePrincipal(function.role, iam: iam).map { ($0, function.secret) }
                } else if accessKey.count == 20, accessKey.hasPrefix("PKIA") {
                    found = try await iam.accessKey(id: accessKey)
                } else {
                    found = nil
                }
                guard let (principal, secret) = found else { return nil }
                return AWSCaller(
                    user: principal.user, secret: secret,
                    authorize: { action, resource in
                        try CallerResolver.requireMFA(principal, settings: settings)
                        // The operation's AWS action goes to its own check only; that check counts the request.
                        let awsAction = AWSOperation.current?.take()
                        try Self.requireAllowed(principal, action: action, awsAction: awsAction, resource: resource)
                        if awsAction != nil, AWSOperation.current?.countOnce() == true {
                            UsageCounters.apiRequest(user: principal.user, groups: principal.groups)
                        }
                    })
            },
            refused: { request, operation, error in
                let event = AuditEntry(
                    time: TimeParsing.format(Int64(Date().timeIntervalSince1970)),
                    actor: "aws-key:" + (request.claimedAccessKey ?? "none"), action: "aws:\(operation)",
                    resource: request.path, source: request.source, status: error.status,
                    result: "denied: \(error.code)")
                await AuditMiddleware.write(logs, stream: "aws", event, logger: logger)
            },
            failed: { request, error in
                logger.error(
                    "AWS request failed",
                    metadata: ["target": "\(request.header("x-amz-target") ?? "-")", "error": "\(error)"])
            },
            clock: store.clock)
        let names = AWSNames(region: config.aws.region, account: config.aws.accountID)
        let cloudWatch = CloudWatchService(store: store, alarms: alarms, names: names, limits: limits) { samples in
            UsageCounters.metricIngest(samples: samples)
        }
        let logsService = LogsService(store: logs, names: names) {
            try await MetricFilterRoutes.installAPIFilters(logs)
        }
        let host = host
        let authorizeTarget = Self.functionTarget(host)
        let sns = SNSService(
            outbox: outbox, names: names, publicURL: deliverySettings.publicURL, clock: store.clock,
            authorizeFunction: authorizeTarget)
        let events = EventsService(
            backend: ServerEventsBackend(host: host, queue: asyncQueue, authorize: authorizeTarget), names: names)
        let lambda = LambdaService(
            backend: HostLambdaBackend(
                host: host, asyncQueue: asyncQueue, logs: logs, logSink: logSink, lambdaFunctions: lambdaFunctions),
            names: names)
        return AWSEndpoint(access: access, services: [cloudWatch, logsService, sns, events], lambda: lambda)
    }
}
