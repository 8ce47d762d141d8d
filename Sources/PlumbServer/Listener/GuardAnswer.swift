import NIOCore

/// The answers the connection guard writes itself, as raw HTTP/1.1 bytes: the request never reached the router, so
/// the error middleware cannot shape them. The body is the API's JSON error shape (CONTRACT.md), and every answer
/// closes the connection.
enum GuardAnswer: Sendable {
    case badRequest
    case requestTimeout(phase: String, seconds: Double)
    case headTooLarge(limit: Int)

    var status: (code: Int, reason: String, errorCode: String) {
        switch self {
        case .badRequest: (400, "Bad Request", "BadRequest")
        case .requestTimeout: (408, "Request Timeout", "RequestTimeout")
        case .headTooLarge: (431, "Request Header Fields Too Large", "RequestHeaderFieldsTooLarge")
        }
    }

    var message: String {
        switch self {
        case .badRequest: "the request is not valid HTTP/1.1 framing"
        case .requestTimeout(let phase, let seconds):
            "the request \(phase) did not arrive within \(Self.format(seconds)) s"
        case .headTooLarge(let limit): "the request line and header fields are over \(limit) bytes"
        }
    }

    /// The whole response: status line, headers, JSON body.
    func bytes(allocator: ByteBufferAllocator) -> ByteBuffer {
        let (code, reason, errorCode) = status
        let body = #"{"error":{"code":"\#(errorCode)","message":"\#(message)"}}"#
        var buffer = allocator.buffer(capacity: 160 + body.utf8.count)
        buffer.writeString(
            "HTTP/1.1 \(code) \(reason)\r\nConnection: close\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\nServer: plumb\r\n\r\n\(body)")
        return buffer
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
