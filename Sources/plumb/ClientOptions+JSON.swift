import Foundation
import NIOHTTP1

/// Typed requests and answers for the client commands: bodies are PlumbAPI request types encoded as JSON, answers are
/// read as their PlumbAPI types.
extension ClientOptions {
    /// Sends `body` encoded as JSON; the answer's bytes.
    func send(_ method: HTTPMethod, _ path: String, json body: some Encodable) async throws -> [UInt8] {
        try await request(method, path, body: Array(try JSONEncoder().encode(body))).body
    }

    /// Sends a request with no body, or with `raw` bytes as they are (a policy document from a file); the answer's bytes.
    func send(_ method: HTTPMethod, _ path: String, raw: [UInt8]? = nil) async throws -> [UInt8] {
        try await request(method, path, body: raw).body
    }

    /// An answer of the server read as its PlumbAPI type; an answer of another shape is an error that shows it.
    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw CLIError(
                "the server's answer is not a \(T.self): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
    }

    /// A name as one path segment: percent-encoded but for letters, digits and `-._~@+`.
    static func path(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@+"))) ?? s
    }
}
