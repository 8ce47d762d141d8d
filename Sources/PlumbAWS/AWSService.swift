import PlumbAPI

/// The AWS protocols a request can come in.
public enum AWSWireProtocol: String, Sendable {
    /// AWS JSON 1.0 (CloudWatch from current botocore and the aws CLI).
    case json10
    /// AWS JSON 1.1 (CloudWatch Logs, EventBridge).
    case json11
    /// The Query protocol: a form body, XML answers (SNS; CloudWatch from older clients).
    case query
    /// Smithy RPC v2 CBOR: `POST /service/NAME/operation/OP`, CBOR both ways (CloudWatch from the Java and Go SDKs).
    case rpcV2CBOR
    /// REST-JSON: the method and path name the operation (Lambda: `/2015-03-31/functions/NAME/invocations`, …).
    case restJSON

    /// The protocol of a request, from its path and headers alone (what an error before the target is known is
    /// answered in).
    static func of(_ request: AWSRequest) -> AWSWireProtocol {
        if request.path.hasPrefix("/service/") { return .rpcV2CBOR }
        if LambdaService.serves(request.path) { return .restJSON }
        let contentType = request.header("content-type")?.lowercased() ?? ""
        if contentType.hasPrefix("application/x-amz-json-1.1") { return .json11 }
        if contentType.hasPrefix("application/x-www-form-urlencoded") && request.header("x-amz-target") == nil {
            return .query
        }
        return .json10
    }
}

/// One AWS service on the endpoint: its operations, in the protocol-neutral form of JSON values (member names as
/// AWS's models spell them).
public protocol AWSService: Sendable {
    /// The SigV4 signing name (`monitoring`, `logs`, `sns`, …).
    static var signingName: String { get }
    /// The `X-Amz-Target` prefix of the JSON protocols, which is also the service's name in an RPC v2 path.
    static var targetPrefix: String { get }
    /// The `Version` a Query request names; nil when the service does not speak Query.
    static var queryVersion: String? { get }
    /// The XML namespace of Query answers.
    static var xmlNamespace: String { get }
    /// The prefix of the service's actions in AWS IAM policies (`cloudwatch`, `logs`, `sns`).
    static var iamPrefix: String { get }
    /// Whether its JSON errors also carry the Query protocol's code (`x-amzn-query-error`): a service that moved
    /// from Query to JSON (CloudWatch) keeps its Query codes so.
    static var queryCompatible: Bool { get }
    /// Which members are numbers, booleans, times and maps, for the protocols whose wire does not say.
    static var memberTypes: AWSMemberTypes { get }
    /// Runs `operation` with its input; the output's members as AWS's model names them.
    func handle(operation: String, input: [String: JSONValue], caller: AWSCaller) async throws -> [String: JSONValue]
    /// The operations answered by an event stream (CloudWatch Logs' StartLiveTail), which `stream` answers.
    static var streamingOperations: Set<String> { get }
    /// One of `streamingOperations`, in a JSON protocol: its checks run here, before the answer's head is sent, and
    /// the answer's `stream` writes the events.
    func stream(operation: String, input: [String: JSONValue], caller: AWSCaller) async throws -> AWSResponse
}

extension AWSService {
    public static var queryVersion: String? { nil }
    public static var xmlNamespace: String { "http://\(signingName).amazonaws.com/doc/" }
    public static var memberTypes: AWSMemberTypes { AWSMemberTypes() }
    public static var iamPrefix: String { signingName }
    public static var queryCompatible: Bool { false }

    public static var streamingOperations: Set<String> { [] }

    public func stream(
        operation: String, input: [String: JSONValue], caller: AWSCaller
    ) async throws -> AWSResponse {
        throw AWSError.unknownOperation(operation, service: Self.signingName)
    }
}
