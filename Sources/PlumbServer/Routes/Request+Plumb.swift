import Hummingbird
import NIOCore

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

    /// Query parameters, the last value winning for repeated names.
    var queryDictionary: [String: String] {
        var out: [String: String] = [:]
        for (key, value) in uri.queryParameters { out[String(key)] = String(value) }
        return out
    }
}

extension Response {
    static func json(_ object: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try PlumbJSON.encoder.encode(object)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

import Foundation

enum PlumbJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}
