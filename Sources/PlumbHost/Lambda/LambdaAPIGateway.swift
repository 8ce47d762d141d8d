import Foundation
import PlumbAPI
import PlumbKit

/// API Gateway's Lambda proxy integration (REST API, payload format 1.0), as an HTTP route hands a request to a
/// Lambda handler and reads its answer back: the event carries the method, path, headers, query, path parameters
/// and body (base64 when not UTF-8); the handler answers `{"statusCode", "headers", "body", "isBase64Encoded"}`, and
/// anything else is API Gateway's `502 {"message": "Internal server error"}`.
enum LambdaAPIGateway {
    static func event(
        _ request: FunctionRequest, resource: String, requestID: String, now: Date = Date()
    ) -> [UInt8] {
        let text = String(validating: request.body, as: UTF8.self)
        // Plumb's credential is Plumb's: it is not handed to the handler; the end user Plumb vouched for is the
        // authorizer's principal, as an API Gateway authorizer would pass it.
        let headers = request.headers.filter { !$0.key.hasPrefix("x-plumb-") && $0.key != "authorization" }
        func map(_ values: [String: String]) -> JSONValue {
            values.isEmpty ? .null : .object(values.mapValues { .string($0) })
        }
        func multi(_ values: [String: String]) -> JSONValue {
            values.isEmpty ? .null : .object(values.mapValues { .array([.string($0)]) })
        }
        let event: JSONValue = .object([
            "resource": .string(resource), "path": .string(request.path),
            "httpMethod": .string(request.method.rawValue),
            "headers": map(headers), "multiValueHeaders": multi(headers),
            "queryStringParameters": map(request.query), "multiValueQueryStringParameters": multi(request.query),
            "pathParameters": map(request.pathParameters), "stageVariables": .null,
            "requestContext": .object([
                "resourcePath": .string(resource), "httpMethod": .string(request.method.rawValue),
                "path": .string(request.path), "requestId": .string(requestID), "stage": .string("$default"),
                "requestTimeEpoch": .number((now.timeIntervalSince1970 * 1_000).rounded()),
                "identity": .object(["sourceIp": .string(request.headers["x-plumb-source"] ?? "")]),
                "authorizer": request.headers["x-plumb-user"].map { .object(["principalId": .string($0)]) } ?? .null,
            ]),
            "body": request.body.isEmpty ? .null : .string(text ?? Data(request.body).base64EncodedString()),
            "isBase64Encoded": .bool(!request.body.isEmpty && text == nil),
        ])
        return (try? Array(JSONEncoder().encode(event))) ?? Array("{}".utf8)
    }

    /// The handler's proxy answer as the HTTP response.
    static func response(_ body: [UInt8]) -> FunctionResponse {
        guard case .object(let answer)? = try? JSONValue.parse(body),
            case .number(let code)? = answer["statusCode"], let status = Int(exactly: code),
            (100...599).contains(status)
        else { return malformed }
        var headers: [String: String] = [:]
        if case .object(let given)? = answer["headers"] {
            for (name, value) in given {
                switch value {
                case .string(let text): headers[name.lowercased()] = text
                case .number(let n): headers[name.lowercased()] = Int(exactly: n).map(String.init) ?? String(n)
                case .bool(let b): headers[name.lowercased()] = String(b)
                default: continue
                }
            }
        }
        var bytes: [UInt8] = []
        switch answer["body"] {
        case .string(let text)?:
            if answer["isBase64Encoded"]?.bool == true {
                guard let data = Data(base64Encoded: text) else { return malformed }
                bytes = Array(data)
            } else {
                bytes = Array(text.utf8)
            }
        case nil, .null?: break
        default: return malformed
        }
        return FunctionResponse(status: status, headers: headers, body: bytes)
    }

    static var malformed: FunctionResponse {
        FunctionResponse(
            status: 502, headers: ["content-type": "application/json"],
            body: Array(#"{"message": "Internal server error"}"#.utf8))
    }
}
