import Foundation
import PlumbAPI
import PlumbAuth
import PlumbMetrics
import PlumbStore
import Synchronization

/// Who signed a request: the user the access key belongs to (`admin` for the data directory's own key), the key's
/// secret to verify with, and the check of an action for that user.
public struct AWSCaller: Sendable {
    public var user: String
    public var secret: String
    /// The data directory's own key: Plumb's admin token, in AWS's terms (it may write the `Plumb/` namespaces).
    public var isAdmin: Bool
    /// Throws (`AWSError` AccessDenied) when the user may not do `action` (Plumb's IAM action) on `resource`.
    public var authorize: @Sendable (_ action: String, _ resource: String) throws -> Void

    public init(
        user: String, secret: String, isAdmin: Bool = false,
        authorize: @escaping @Sendable (_ action: String, _ resource: String) throws -> Void
    ) {
        self.user = user
        self.secret = secret
        self.isAdmin = isAdmin
        self.authorize = authorize
    }
}

/// The AWS IAM action of the operation being run (`cloudwatch:PutMetricData`, `sns:Publish`,
/// `lambda:InvokeFunction`), set by the endpoint around each operation, so a caller's `authorize` can accept a
/// policy written with AWS's action names as well as Plumb's — for the operation's own check only: `take()` hands
/// it to the first check (each service authorizes its operation first), and the checks after it (may the caller
/// invoke the function it subscribes?) see nil, so `sns:Subscribe` never stands for `functions:InvokeFunction`.
public final class AWSOperation: Sendable {
    @TaskLocal public static var current: AWSOperation?
    private let action: Mutex<String?>
    private let counted = Mutex(false)

    public init(action: String) { self.action = Mutex(action) }

    /// The operation's AWS action, once.
    public func take() -> String? {
        action.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// True the first time only: the request is counted once however many resources its own check covers.
    public func countOnce() -> Bool {
        counted.withLock { done in
            defer { done = true }
            return !done
        }
    }

    /// Hands the action to the next check again (`AWSCaller.authorizeEach`).
    func give(_ value: String) { action.withLock { $0 = value } }

    static func run<T>(_ action: String, _ work: () async throws -> T) async rethrows -> T {
        try await $current.withValue(AWSOperation(action: action)) { try await work() }
    }
}

extension AWSCaller {
    /// The operation's own check over several resources (the alarms of one call, the groups of one tail): each one
    /// is checked with the operation's AWS action as well as Plumb's, so a Deny written in AWS's names holds for every
    /// resource, not only the first; checks after it see no AWS action again.
    public func authorizeEach(_ action: String, _ resources: [String]) throws {
        guard let operation = AWSOperation.current, let aws = operation.take() else {
            for resource in resources { try authorize(action, resource) }
            return
        }
        defer { _ = operation.take() }
        for resource in resources {
            operation.give(aws)
            try authorize(action, resource)
        }
    }

}

/// What the endpoint needs from the server: the access keys, the clock, and the audit trail of refusals.
public struct AWSAccess: Sendable {
    /// The caller an access key belongs to; nil for an unknown or disabled key.
    public var caller: @Sendable (_ accessKey: String) async throws -> AWSCaller?
    /// Records a refused request (bad, missing or expired signature; unknown key; an action denied).
    public var refused: @Sendable (_ request: AWSRequest, _ operation: String, _ error: AWSError) async -> Void
    /// Told of a request that failed on the server's side (its detail is logged, not answered).
    public var failed: @Sendable (_ request: AWSRequest, _ error: any Error) async -> Void
    public var clock: @Sendable () -> Int64

    public init(
        caller: @escaping @Sendable (_ accessKey: String) async throws -> AWSCaller?,
        refused: @escaping @Sendable (_ request: AWSRequest, _ operation: String, _ error: AWSError) async -> Void,
        failed: @escaping @Sendable (_ request: AWSRequest, _ error: any Error) async -> Void = { _, _ in },
        clock: @escaping @Sendable () -> Int64
    ) {
        self.caller = caller
        self.refused = refused
        self.failed = failed
        self.clock = clock
    }
}

/// Serves the AWS APIs on Plumb's listener, one endpoint for every service (what `endpoint_url` points at): tells the
/// protocol and service apart (`X-Amz-Target`, Content-Type, the form's `Action`), verifies the SigV4 signature,
/// runs the operation for the caller the key belongs to, and answers in the request's protocol, errors included.
public struct AWSEndpoint: Sendable {
    let access: AWSAccess
    let services: [any AWSService]
    let lambda: LambdaService?
    /// The largest body taken (Lambda's 6 MB payload and some).
    public static let maxBodyBytes = 6 * 1_048_576 + 65_536
    /// The largest body of CreateFunction and UpdateFunctionCode: a 50 MB zip file in base64, and some.
    public static let maxCodeBodyBytes = 70 * 1_048_576

    /// The largest body taken for `method path`: a function's code may be larger than any other request.
    public static func bodyLimit(method: String, path: String) -> Int {
        let code =
            (method == "POST" && (path == "/2015-03-31/functions" || path == "/2015-03-31/functions/"))
            || (method == "PUT" && path.hasPrefix("/2015-03-31/functions/") && path.hasSuffix("/code"))
        return code ? maxCodeBodyBytes : maxBodyBytes
    }

    public init(access: AWSAccess, services: [any AWSService], lambda: LambdaService? = nil) {
        self.access = access
        self.services = services
        self.lambda = lambda
    }

    /// What a request is for: service, operation and protocol.
    struct Target {
        var wire: AWSWireProtocol
        var service: any AWSService
        var operation: String
        /// The input, where the protocol carries it with the target (a Query form's other members).
        var form: [String: JSONValue]?
    }

    public func handle(_ request: AWSRequest) async -> AWSResponse {
        let requestID = UUID().uuidString.lowercased()
        // The protocol to answer in, from the path and headers alone; the signature is checked before anything else
        // is read.
        var wire = AWSWireProtocol.of(request)
        if wire == .restJSON { return await handleREST(request, requestID: requestID) }
        var service: (any AWSService)?
        do {
            var target: Target?
            let caller = try await verified(request) { credential in
                service = services.first { type(of: $0).signingName == credential.service }
                let found = try self.target(of: request, credential: credential)
                service = found.service
                // A key scoped to one service signs for that service only, as AWS checks.
                try Self.checkScope(credential, type(of: found.service).signingName)
                target = found
            }
            guard let target else { throw AWSError(code: "InternalFailure", "no target", status: 500) }
            wire = target.wire
            service = target.service
            let input = try target.form ?? parseInput(request, wire: target.wire)
            let action = type(of: target.service).iamPrefix + ":" + target.operation
            if target.wire == .json10 || target.wire == .json11,
                type(of: target.service).streamingOperations.contains(target.operation)
            {
                var streamed = try await UsageAttribution.$user.withValue(caller.user) {
                    try await audited(request, operation: target.operation) {
                        try await AWSOperation.run(action) {
                            try await target.service.stream(operation: target.operation, input: input, caller: caller)
                        }
                    }
                }
                streamed.headers.append(("x-amzn-RequestId", requestID))
                return streamed
            }
            let output = try await UsageAttribution.$user.withValue(caller.user) {
                try await audited(request, operation: target.operation) {
                    try await AWSOperation.run(type(of: target.service).iamPrefix + ":" + target.operation) {
                        try await target.service.handle(operation: target.operation, input: input, caller: caller)
                    }
                }
            }
            return success(output, target: target, requestID: requestID)
        } catch {
            let answer = AWSError.from(error)
            if answer.status >= 500 { await access.failed(request, error) }
            return failure(
                answer, wire: wire, service: service, claimedService: request.claimedService, requestID: requestID)
        }
    }

    /// The REST protocols (Lambda's REST-JSON): the method and path name the operation.
    func handleREST(_ request: AWSRequest, requestID: String) async -> AWSResponse {
        do {
            guard let lambda else {
                throw AWSError(code: "UnknownOperationException", "Lambda is not served here", status: 404)
            }
            let caller = try await verified(request) { try Self.checkScope($0, LambdaService.signingName) }
            let body = try content(request)
            var answer = try await UsageAttribution.$user.withValue(caller.user) {
                try await audited(request, operation: "lambda:\(request.method) \(request.path.prefix(200))") {
                    try await lambda.handle(request, body: body, caller: caller, requestID: requestID)
                }
            }
            if !answer.headers.contains(where: { $0.name.lowercased() == "x-amzn-requestid" }) {
                answer.headers.append(("x-amzn-RequestId", requestID))
            }
            return answer
        } catch {
            let answer = AWSError.from(error)
            if answer.status >= 500 { await access.failed(request, error) }
            return failure(answer, wire: .restJSON, service: nil, requestID: requestID)
        }
    }

    /// The caller whose key signed `request`, once `check` accepts the signature's scope; a refusal is audited.
    func verified(
        _ request: AWSRequest, check: (SigV4.Credential) throws -> Void
    ) async throws -> AWSCaller {
        do {
            let (caller, credential) = try await authenticate(request)
            try check(credential)
            return caller
        } catch let error as AWSError where error.status == 403 || error.code == "RequestExpired" {
            await access.refused(request, request.claimedOperation, error)
            throw error
        }
    }

    static func checkScope(_ credential: SigV4.Credential, _ service: String) throws {
        guard credential.service == service else {
            throw AWSError(
                code: "SignatureDoesNotMatch", type: "InvalidSignatureException",
                "Credential should be scoped to correct service: '\(service)'.", status: 403)
        }
    }

    /// Runs an operation; a refusal by the user's policies is audited as a refused signature is.
    func audited<T>(_ request: AWSRequest, operation: String, _ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch {
            let refusal = AWSError.from(error)
            if ["AccessDenied", "AccessDeniedException", "MFARequired", "AuthorizationError"].contains(refusal.code) {
                await access.refused(request, operation, refusal)
            }
            throw refusal
        }
    }

    /// An answer to a request refused before it was read whole (a body over `maxBodyBytes`), in its protocol.
    public func reject(_ error: AWSError, request: AWSRequest) -> AWSResponse {
        failure(error, wire: .of(request), service: nil, requestID: UUID().uuidString.lowercased())
    }

    /// The service and operation: from `X-Amz-Target` (JSON protocols), the path (RPC v2 CBOR), or the form's
    /// `Action` for the service the credential is scoped to (Query).
    func target(of request: AWSRequest, credential: SigV4.Credential) throws -> Target {
        let wire = AWSWireProtocol.of(request)
        switch wire {
        case .json10, .json11, .restJSON:
            guard let amzTarget = request.header("x-amz-target") else {
                throw AWSError(
                    code: "UnknownOperationException",
                    "not an AWS request this endpoint serves: it needs X-Amz-Target (AWS JSON 1.0/1.1), a form body "
                        + "with Action (Query) or the path /service/NAME/operation/OP (Smithy RPC v2 CBOR)")
            }
            let parts = amzTarget.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw AWSError(code: "UnknownOperationException", "X-Amz-Target '\(amzTarget)' is not PREFIX.Operation")
            }
            return Target(wire: wire, service: try service(prefix: parts[0]), operation: parts[1])
        case .rpcV2CBOR:
            let parts = request.path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[1] == "service", parts[3] == "operation", !parts[4].isEmpty else {
                throw AWSError(code: "UnknownOperationException", "an RPC v2 path is /service/NAME/operation/OP")
            }
            guard request.header("smithy-protocol") == "rpc-v2-cbor" else {
                throw AWSError(
                    code: "UnknownOperationException", "an RPC v2 request needs smithy-protocol: rpc-v2-cbor")
            }
            return Target(wire: wire, service: try service(prefix: String(parts[2])), operation: String(parts[4]))
        case .query:
            guard let service = services.first(where: { type(of: $0).signingName == credential.service }),
                let version = type(of: service).queryVersion
            else {
                throw AWSError(
                    code: "InvalidAction", "the Query protocol is not served for '\(credential.service)' here")
            }
            let form = try AWSQuery.decode(try content(request), types: type(of: service).memberTypes)
            if let asked = form.version, asked != version {
                throw AWSError(
                    code: "InvalidParameterValue", "Version '\(asked.prefix(40))' is not \(version) for this service")
            }
            return Target(wire: wire, service: service, operation: form.action, form: form.input)
        }
    }

    func service(prefix: String) throws -> any AWSService {
        guard let service = services.first(where: { type(of: $0).targetPrefix == prefix }) else {
            throw AWSError(code: "UnknownOperationException", "no AWS service '\(prefix.prefix(80))' here")
        }
        return service
    }

    /// Headers that change what a request does: each one present must be covered by the signature (a presigned
    /// URL, which signs only `host`, cannot be turned into another operation or content).
    static let headersToSign = [
        "x-amz-target", "content-type", "content-encoding", "x-amz-content-sha256",
        // Lambda's Invoke: what runs (RequestResponse, Event, DryRun), whether logs come back, the client context.
        "x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context",
    ]

    /// The caller whose key signed the request, once the signature is verified, and the signature's scope.
    func authenticate(_ request: AWSRequest) async throws -> (AWSCaller, SigV4.Credential) {
        let signed = SigV4.Request(
            method: request.method, path: request.path, query: request.query, headers: request.headers,
            body: request.body)
        do {
            let credential = try SigV4.credential(of: signed)
            if let unsigned = Self.headersToSign.first(where: {
                request.header($0) != nil && !credential.signedHeaders.contains($0)
            }) {
                throw AWSError(
                    code: "IncompleteSignature", type: "IncompleteSignatureException",
                    "the header \(unsigned) must be signed (in SignedHeaders)", status: 403)
            }
            guard let caller = try await access.caller(credential.accessKey) else {
                throw AWSError(
                    code: "InvalidClientTokenId", type: "UnrecognizedClientException",
                    "The security token included in the request is invalid.", status: 403)
            }
            try SigV4.verify(signed, credential: credential, secret: caller.secret, now: access.clock())
            return (caller, credential)
        } catch let failure as SigV4.Failure {
            switch failure {
            case .missing:
                throw AWSError(
                    code: "MissingAuthenticationToken", type: "MissingAuthenticationTokenException",
                    "Request is missing Authentication Token", status: 403)
            case .malformed(let why):
                throw AWSError(code: "IncompleteSignature", type: "IncompleteSignatureException", why, status: 403)
            case .unknownKey:
                throw AWSError(
                    code: "InvalidClientTokenId", type: "UnrecognizedClientException",
                    "The security token included in the request is invalid.", status: 403)
            case .mismatch:
                throw AWSError(
                    code: "SignatureDoesNotMatch", type: "InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                    status: 403)
            case .expired(let why):
                throw AWSError(code: "RequestExpired", type: "InvalidSignatureException", why, status: 400)
            }
        }
    }

    /// The body as the operation reads it: the SDKs gzip a PutMetricData body over 10 KB (its `requestCompression`
    /// trait) before signing it, so it is inflated once the signature over the bytes sent is verified.
    func content(_ request: AWSRequest) throws -> [UInt8] {
        switch request.header("content-encoding")?.lowercased() {
        case nil, "", "identity": return request.body
        case "gzip":
            do { return try Zlib.gunzip(request.body, limit: Self.maxBodyBytes) } catch {
                throw AWSError(code: "InvalidParameterValue", "Content-Encoding gzip: \(error)")
            }
        case let other?:
            throw AWSError(code: "InvalidParameterValue", "Content-Encoding '\(other)' is not gzip")
        }
    }

    func parseInput(_ request: AWSRequest, wire: AWSWireProtocol) throws -> [String: JSONValue] {
        let body = try content(request)
        switch wire {
        case .json10, .json11, .restJSON:
            guard !body.isEmpty else { return [:] }
            guard case .object(let members) = try? JSONValue.parse(body) else {
                throw AWSError(code: "SerializationException", "the body is not a JSON object")
            }
            return members
        case .rpcV2CBOR:
            guard !body.isEmpty else { return [:] }
            do {
                guard case .object(let members) = try CBOR.decode(body) else {
                    throw AWSError(code: "SerializationException", "the body is not a CBOR map")
                }
                return members
            } catch let failure as CBOR.Failure {
                throw AWSError(code: "SerializationException", "the body is not CBOR: \(failure)")
            }
        case .query:
            // Read with the target (the form names the operation).
            return [:]
        }
    }
}
