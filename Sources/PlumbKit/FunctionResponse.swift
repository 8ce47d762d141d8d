import Foundation

/// The output of one invocation.
public struct FunctionResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response of `value`.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> FunctionResponse {
        FunctionResponse(status: status, headers: ["content-type": "application/json"], body: Array(try encoder.encode(value)))
    }

    public static func noContent() -> FunctionResponse {
        FunctionResponse(status: 204)
    }
}
