import Foundation
import PlumbAPI
import PlumbAuth

/// A request on the AWS endpoint as received: `path` and `query` still percent-encoded (the signature covers them
/// so), header names in any case.
public struct AWSRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The client's address, for the audit trail.
    public var source: String

    public init(
        method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8],
        source: String = "unknown"
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.source = source
    }

    /// The access key the request claims to be signed by (not verified), for the audit trail.
    public var claimedAccessKey: String? {
        try? SigV4.credential(
            of: SigV4.Request(method: method, path: path, query: query, headers: headers, body: [])
        ).accessKey
    }

    /// The service the request's credential scope names (not verified), for the form of an error.
    public var claimedService: String? {
        try? SigV4.credential(
            of: SigV4.Request(method: method, path: path, query: query, headers: headers, body: [])
        ).service
    }

    /// The operation the request names before it is read (`X-Amz-Target`, an RPC v2 path's last part), for the
    /// audit trail of a refused signature; a Query form is not read unsigned.
    public var claimedOperation: String {
        if let target = header("x-amz-target") { return String(target.prefix(200)) }
        if path.hasPrefix("/service/"), let last = path.split(separator: "/").last { return String(last.prefix(200)) }
        return "unknown"
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// An answer in the protocol the request came in.
public struct AWSResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// An answer that goes on after its head (an event stream): run once the head and `body` are sent, with a writer
    /// of the next bytes; it returns when the stream ends, and throws when the client has gone.
    public var stream: (@Sendable (_ write: @Sendable ([UInt8]) async throws -> Void) async throws -> Void)?

    public init(
        status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        stream: (@Sendable (_ write: @Sendable ([UInt8]) async throws -> Void) async throws -> Void)? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }
}

/// An error as AWS names it: `code` is the Query protocol's code (`InvalidParameterValue`, `AccessDenied`, …, what
/// boto3 shows as `Error.Code`), `type` the JSON protocols' `__type` (the modelled shape, e.g.
/// `InvalidParameterValueException`), `status` the HTTP status the SDKs retry by (5xx, 429 and throttling codes).
public struct AWSError: Error, Sendable, Equatable {
    public var code: String
    public var type: String
    public var message: String
    public var status: Int
    /// Whose fault: the caller's (`Sender`) or the service's (`Receiver`).
    public var sender: Bool

    public init(code: String, type: String? = nil, _ message: String, status: Int = 400, sender: Bool = true) {
        self.code = code
        self.type = type ?? code
        self.message = message
        self.status = status
        self.sender = sender
    }

    public static func invalidParameter(_ message: String) -> AWSError {
        AWSError(code: "InvalidParameterValue", type: "InvalidParameterValueException", message)
    }

    public static func missingParameter(_ message: String) -> AWSError {
        AWSError(code: "MissingParameter", type: "MissingRequiredParameterException", message)
    }

    public static func unknownOperation(_ operation: String, service: String) -> AWSError {
        AWSError(
            code: "InvalidAction", type: "UnknownOperationException",
            "\(service) has no operation '\(operation)' on this endpoint (see the README's supported operations)")
    }

    /// A Plumb error (validation, not found, a store that is behind) in AWS's terms: the same code where AWS has
    /// it, with its modelled shape name.
    public static func from(_ error: any Error) -> AWSError {
        switch error {
        case let error as AWSError: return error
        case let error as any HTTPResponseError:
            let types = [
                "InvalidParameterValue": "InvalidParameterValueException",
                "MissingParameter": "MissingRequiredParameterException",
                "InvalidParameterCombination": "InvalidParameterCombinationException",
                "LimitExceeded": "LimitExceededFault",
                "ResourceNotFound": "ResourceNotFound",
                "AccessDenied": "AccessDeniedException",
                "MFARequired": "AccessDeniedException",
            ]
            // The SDKs retry `Throttling` whatever its status, and every 503.
            switch error.status {
            case 413:
                return AWSError(code: "RequestEntityTooLarge", error.message, status: 413)
            case 429:
                return AWSError(code: "Throttling", type: "ThrottlingException", error.message)
            case 503:
                return AWSError(code: "ServiceUnavailable", error.message, status: 503, sender: false)
            default:
                return AWSError(
                    code: error.code, type: types[error.code] ?? error.code, error.message, status: error.status,
                    sender: error.status < 500)
            }
        default:
            // The detail stays in the server's log (`AWSAccess.failed`): it may name storage internals.
            return AWSError(
                code: "InternalFailure", type: "InternalFailure", "the request failed on the server; see its log",
                status: 500, sender: false)
        }
    }
}
