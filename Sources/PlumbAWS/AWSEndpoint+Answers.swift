import Foundation
import PlumbAPI

/// Answers in the request's protocol: JSON, CBOR, XML or REST-JSON, successes and errors.
extension AWSEndpoint {
    func success(_ output: [String: JSONValue], target: Target, requestID: String) -> AWSResponse {
        let service = type(of: target.service)
        switch target.wire {
        case .json10, .json11, .restJSON:
            let body = AWSJSON.encode(.object(output), types: service.memberTypes)
            return AWSResponse(
                status: 200,
                headers: [("Content-Type", Self.contentType(target.wire)), ("x-amzn-RequestId", requestID)],
                body: body)
        case .rpcV2CBOR:
            return AWSResponse(
                status: 200,
                headers: [
                    ("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-RequestId", requestID),
                ],
                body: CBOR.encode(.object(output), types: service.memberTypes))
        case .query:
            return AWSResponse(
                status: 200, headers: [("Content-Type", "text/xml"), ("x-amzn-RequestId", requestID)],
                body: AWSQuery.response(
                    action: target.operation, namespace: service.xmlNamespace, output: output, requestID: requestID,
                    types: service.memberTypes))
        }
    }

    static func contentType(_ wire: AWSWireProtocol) -> String {
        switch wire {
        case .json10: "application/x-amz-json-1.0"
        case .json11: "application/x-amz-json-1.1"
        case .rpcV2CBOR: "application/cbor"
        case .query: "text/xml"
        case .restJSON: "application/json"
        }
    }

    /// An error in the request's protocol. The JSON and CBOR forms carry `x-amzn-query-error` (CODE;Sender|Receiver),
    /// which the SDKs of a service that moved from Query (CloudWatch) read for the Query code.
    func failure(
        _ error: AWSError, wire: AWSWireProtocol, service: (any AWSService)?, claimedService: String? = nil,
        requestID: String
    ) -> AWSResponse {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", Self.contentType(wire)), ("x-amzn-RequestId", requestID),
        ]
        let body: [UInt8]
        switch wire {
        case .json10, .json11:
            let members: [String: JSONValue] = ["__type": .string(error.type), "message": .string(error.message)]
            body = (try? JSONEncoder().encode(JSONValue.object(members))).map { [UInt8]($0) } ?? []
        case .rpcV2CBOR:
            headers.append(("smithy-protocol", "rpc-v2-cbor"))
            body = CBOR.encode(
                .object(["__type": .string(error.type), "message": .string(error.message)]), types: AWSMemberTypes())
        case .query:
            let namespace = service.map { type(of: $0).xmlNamespace } ?? CloudWatchService.xmlNamespace
            body = AWSQuery.error(error, namespace: namespace, requestID: requestID)
        case .restJSON:
            // The error's shape in `x-amzn-ErrorType`, as the REST-JSON services name it.
            headers.append(("x-amzn-ErrorType", error.type))
            let members: [String: JSONValue] = [
                "Type": .string(error.sender ? "User" : "Service"), "message": .string(error.message),
            ]
            body = (try? JSONEncoder().encode(JSONValue.object(members))).map { [UInt8]($0) } ?? []
        }
        // A service known (or claimed by the credential scope) that never spoke Query gets no Query code.
        let compatible =
            service.map { type(of: $0).queryCompatible }
            ?? services.first(where: { type(of: $0).signingName == claimedService }).map {
                type(of: $0).queryCompatible
            } ?? true
        if wire != .query && wire != .restJSON && compatible {
            headers.append(("x-amzn-query-error", "\(error.code);\(error.sender ? "Sender" : "Receiver")"))
        }
        return AWSResponse(status: error.status, headers: headers, body: body)
    }
}
