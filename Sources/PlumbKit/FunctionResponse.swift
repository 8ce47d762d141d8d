import Foundation

/// The output of one invocation.
public struct FunctionResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// A body written over time (a streaming function's answer): called once; each `write` goes out as it is made.
    public var stream: (@Sendable (_ write: @escaping @Sendable ([UInt8]) -> Void) async throws -> Void)?

    public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A streamed answer: `produce` writes pieces as they are ready (e.g. one acknowledgement line per chunk read).
    public static func streaming(
        status: Int = 200, headers: [String: String],
        _ produce: @escaping @Sendable (_ write: @escaping @Sendable ([UInt8]) -> Void) async throws -> Void
    ) -> FunctionResponse {
        var response = FunctionResponse(status: status, headers: headers)
        response.stream = produce
        return response
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response of `value`.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> FunctionResponse {
        FunctionResponse(
            status: status, headers: ["content-type": "application/json"], body: Array(try encoder.encode(value)))
    }

    public static func noContent() -> FunctionResponse {
        FunctionResponse(status: 204)
    }
}
