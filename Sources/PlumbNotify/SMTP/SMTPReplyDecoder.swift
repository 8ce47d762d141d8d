import NIOCore

/// One SMTP reply: a three-digit code and its text lines (multi-line replies joined).
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    public var lines: [String]

    public var text: String { lines.joined(separator: " ") }
}

/// Frames replies: lines `250-…` continue, `250 …` (or a bare `250`) ends a reply.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 4_096 {
                throw SMTPError(code: nil, "the server sent a line longer than 4096 bytes", transient: true)
            }
            return .needMoreData
        }
        var bytes = buffer.readBytes(length: newline - buffer.readerIndex + 1) ?? []
        // Byte-wise: as a Character, "\r\n" is one grapheme and would not match "\r" or "\n".
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        let line = String(decoding: bytes, as: UTF8.self)
        guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)) else {
            throw SMTPError(code: nil, "malformed reply from the server: \(line.prefix(80))", transient: true)
        }
        let more = bytes.count > 3 && bytes[3] == UInt8(ascii: "-")
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if !more {
            context.fireChannelRead(wrapInboundOut(SMTPReply(code: code, lines: lines)))
            lines = []
        }
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// A failed SMTP exchange. `transient` (4xx replies, connection problems) is worth retrying; 5xx is not.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var code: Int?
    public var message: String
    public var transient: Bool

    public init(code: Int?, _ message: String, transient: Bool) {
        self.code = code
        self.message = message
        self.transient = transient
    }

    public var description: String { code.map { "\($0) \(message)" } ?? message }
}
