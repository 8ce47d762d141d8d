import Foundation
import Hummingbird
import PlumbAPI

extension Request {
    /// The body decoded as `T`, read as the IAM routes have always read theirs: anything but a JSON object (no body,
    /// invalid JSON, an array, a number no double holds) is "the body must be a JSON object"; the refusals of `T`
    /// itself (`MissingParameter` naming the fields) pass through. Unknown fields are ignored.
    func decodeJSONObject<T: Decodable>(_ type: T.Type, limit: Int = 64 * 1_024) async throws -> T {
        let body = Data(try await collectBody(limit: limit))
        guard case .object? = JSONValue.parseStrict(body) else {
            throw APIError("the body must be a JSON object")
        }
        do {
            return try JSONDecoder().decode(T.self, from: body)
        } catch let error as PlumbError {
            throw error
        } catch {
            throw APIError("the body must be a JSON object")
        }
    }
}
