import Foundation

/// The input of one invocation, transport-neutral: an HTTP request, a WebSocket frame, an event or a tick.
public struct FunctionRequest: Sendable {
    public var method: HTTPMethod
    /// Path as the client sent it, without the query string.
    public var path: String
    public var pathParameters: [String: String]
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The WebSocket connection this frame came from, if any.
    public var connectionID: String?
    /// For a streaming function: the body as it arrives (`body` is then empty).
    public var bodyStream: AsyncThrowingStream<[UInt8], any Error>?

    public init(
        method: HTTPMethod = .post, path: String = "/", pathParameters: [String: String] = [:],
        query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = [], connectionID: String? = nil
    ) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.body = body
        self.connectionID = connectionID
    }

    /// Decodes the body as JSON, or throws a 400 naming what is wrong.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !body.isEmpty else { throw FunctionError.badRequest("the request body is empty; expected JSON") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw FunctionError.badRequest("'\(key.stringValue)' is required")
        } catch let DecodingError.typeMismatch(_, context) {
            throw FunctionError.badRequest(
                "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.valueNotFound(_, context) {
            throw FunctionError.badRequest(
                "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' must not be null")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw FunctionError.badRequest(
                "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is out of range or malformed")
        } catch DecodingError.dataCorrupted where JSONNumberProblem.locate(in: body) != nil {
            throw FunctionError.badRequest(
                "'\(JSONNumberProblem.locate(in: body) ?? "")' is out of range or not a whole number")
        } catch {
            throw FunctionError.badRequest("the request body is not valid JSON")
        }
    }

    /// An integer query parameter within `range`, `defaultValue` when absent, 400 when malformed.
    public func intQuery(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw FunctionError.badRequest(
                "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
