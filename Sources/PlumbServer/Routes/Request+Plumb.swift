import Foundation
import Hummingbird
import NIOCore
import PlumbAPI
import PlumbKit

extension Request {
    /// The body, up to `limit` bytes; a larger body is a 413 naming the limit.
    func collectBody(limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(status: 413, code: "RequestEntityTooLarge", "the request body is larger than \(limit) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(status: 413, code: "RequestEntityTooLarge", "the request body is larger than \(limit) bytes")
        }
    }

    /// The body decoded as JSON `T`; a malformed body is a 400 that says what was wrong.
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int = 256 * 1_024 + 4_096) async throws -> T {
        let body = try await collectBody(limit: limit)
        guard !body.isEmpty else { throw APIError(code: "MissingParameter", "a JSON body is required") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as any PlumbAPI.HTTPResponseError {
            throw error
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError(
                code: "MissingParameter",
                "'\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is required")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw APIError(
                "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type: \(context.debugDescription)"
            )
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            throw APIError(
                "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is out of range or malformed: \(context.debugDescription)"
            )
        } catch DecodingError.dataCorrupted where JSONNumberProblem.locate(in: body) != nil {
            throw APIError("'\(JSONNumberProblem.locate(in: body) ?? "")' is out of range or not a whole number")
        } catch {
            throw APIError("the body is not valid JSON")
        }
    }

    /// A whole-number query parameter within `range`, or `defaultValue` when absent.
    func intParameter(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = queryDictionary[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError("\(name) must be a whole number between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// Query parameters decoded as a form (`+` is a space), the last value winning for repeated names.
    var queryDictionary: [String: String] { FormQuery.parse(uri.query) }
}

extension Response {
    static func json(_ object: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try PlumbJSON.encoder.encode(object)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

enum PlumbJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}
