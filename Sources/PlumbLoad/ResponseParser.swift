import Foundation
import NIOCore

/// An incremental HTTP/1.1 response parser for the load generator: the status, the body by `Content-Length` or
/// chunked transfer coding (its bytes handed on as they arrive, for streamed acknowledgements), and the end of each
/// response, so keep-alive and pipelined responses follow each other on one connection. Lean on purpose: the
/// generator must cost less than the server it measures.
struct ResponseParser {
    static let crlf: [UInt8] = [13, 10]
    static let crlfcrlf: [UInt8] = [13, 10, 13, 10]
    enum Event {
        case head(status: Int)
        case body(ByteBuffer)
        case end
    }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    private var buffer = ByteBuffer()
    private(set) var closeAfter = false

    /// Feeds bytes read from the socket; calls `event` for each parsed part, in order.
    mutating func feed(_ incoming: inout ByteBuffer, _ event: (Event) -> Void) throws {
        if buffer.readableBytes == 0 { swap(&buffer, &incoming) } else { buffer.writeBuffer(&incoming) }
        while true {
            switch state {
            case .head:
                guard let end = buffer.readableBytesView.find(ResponseParser.crlfcrlf) else {
                    guard buffer.readableBytes < 65_536 else {
                        throw Invalid(description: "a response head longer than 64 KiB")
                    }
                    return
                }
                let length = end.upperBound - buffer.readerIndex
                let head = buffer.readSlice(length: length)!
                try parseHead(head, event)
            case .fixed(let remaining):
                if remaining == 0 {
                    state = .head
                    event(.end)
                    continue
                }
                guard buffer.readableBytes > 0 else { return }
                let n = min(remaining, buffer.readableBytes)
                event(.body(buffer.readSlice(length: n)!))
                state = .fixed(remaining: remaining - n)
            case .chunkSize:
                guard let end = buffer.readableBytesView.find(ResponseParser.crlf) else {
                    guard buffer.readableBytes < 1_024 else {
                        throw Invalid(description: "a chunk size line longer than 1 KiB")
                    }
                    return
                }
                // Hex digits up to an extension (';') or the line end.
                var size = 0
                var digits = 0
                for c in buffer.readableBytesView[buffer.readerIndex..<end.lowerBound] {
                    let d: Int
                    switch c {
                    case 48...57: d = Int(c) - 48
                    case 65...70: d = Int(c) - 55
                    case 97...102: d = Int(c) - 87
                    case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"): d = -1
                    default: throw Invalid(description: "a bad chunk size line")
                    }
                    if d < 0 { break }
                    guard digits < 15 else { throw Invalid(description: "a chunk size too large") }
                    size = size * 16 + d
                    digits += 1
                }
                guard digits > 0 else { throw Invalid(description: "an empty chunk size line") }
                buffer.moveReaderIndex(to: end.upperBound)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return }
                let n = min(remaining, buffer.readableBytes)
                event(.body(buffer.readSlice(length: n)!))
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return }
                buffer.moveReaderIndex(forwardBy: 2)
                state = .chunkSize
            case .trailers:
                guard let end = buffer.readableBytesView.find(ResponseParser.crlf) else { return }
                let blank = end.lowerBound == buffer.readerIndex
                buffer.moveReaderIndex(to: end.upperBound)
                if blank {
                    state = .head
                    event(.end)
                }
            case .untilClose:
                guard buffer.readableBytes > 0 else { return }
                event(.body(buffer.readSlice(length: buffer.readableBytes)!))
                return
            }
        }
    }

    /// The connection closed: a body delimited by the close ends here.
    mutating func closed(_ event: (Event) -> Void) {
        if case .untilClose = state {
            state = .head
            event(.end)
        }
    }

    private mutating func parseHead(_ head: ByteBuffer, _ event: (Event) -> Void) throws {
        let view = head.readableBytesView
        // "HTTP/1.1 200 OK"
        guard view.count >= 12, view.starts(with: "HTTP/1.".utf8) else {
            throw Invalid(description: "not an HTTP/1.x response")
        }
        let s = view.startIndex
        func digit(_ i: Int) -> Int? {
            let c = view[s + i]
            return c >= 48 && c <= 57 ? Int(c - 48) : nil
        }
        guard let a = digit(9), let b = digit(10), let c = digit(11) else {
            throw Invalid(description: "a bad status line")
        }
        let status = a * 100 + b * 10 + c
        var length: Int?
        var chunked = false
        closeAfter = view[s + 7] == UInt8(ascii: "0")
        // Header lines: only the framing ones matter.
        var lineStart = view.firstIndex(of: 10).map { $0 + 1 } ?? view.endIndex
        while lineStart < view.endIndex {
            let lineEnd = view[lineStart...].firstIndex(of: 10) ?? view.endIndex
            let line = view[lineStart..<lineEnd]
            if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                // Byte-level: Foundation string calls per header cost more than the rest of a response.
                let name = line[lineStart..<colon]
                let value = line[(colon + 1)...]
                if Self.equalsIgnoringCase(name, "content-length") {
                    var n = 0
                    var digits = 0
                    for c in value where c >= 48 && c <= 57 {
                        n = n * 10 + Int(c - 48)
                        digits += 1
                    }
                    length = digits > 0 && digits < 16 ? n : nil
                } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                    chunked = Self.containsIgnoringCase(value, Self.chunkedToken)
                } else if Self.equalsIgnoringCase(name, "connection") {
                    if Self.containsIgnoringCase(value, Self.closeToken) {
                        closeAfter = true
                    } else if Self.containsIgnoringCase(value, Self.keepAliveToken) {
                        closeAfter = false
                    }
                }
            }
            lineStart = lineEnd + 1
        }
        event(.head(status: status))
        if status == 204 || status == 304 || (100..<200).contains(status) {
            state = .fixed(remaining: 0)
        } else if chunked {
            state = .chunkSize
        } else if let length {
            state = .fixed(remaining: length)
        } else {
            state = .untilClose
        }
    }

    static let chunkedToken = Array("chunked".utf8), closeToken = Array("close".utf8),
        keepAliveToken = Array("keep-alive".utf8)

    private static func containsIgnoringCase(_ bytes: ByteBufferView.SubSequence, _ token: [UInt8]) -> Bool {
        guard bytes.count >= token.count else { return false }
        var i = bytes.startIndex
        while i <= bytes.endIndex - token.count {
            var j = 0
            while j < token.count {
                let c = bytes[i + j]
                if (c >= 65 && c <= 90 ? c + 32 : c) != token[j] { break }
                j += 1
            }
            if j == token.count { return true }
            i += 1
        }
        return false
    }

    private static func equalsIgnoringCase(_ bytes: ByteBufferView.SubSequence, _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        var i = 0
        for c in bytes {
            let lower = c >= 65 && c <= 90 ? c + 32 : c
            if lower != name.utf8Start[i] { return false }
            i += 1
        }
        return true
    }
}

extension ByteBufferView {
    /// The first occurrence of `needle`, by a plain byte scan (the standard library's generic `firstRange(of:)`
    /// costs a generic searcher and metadata lookups per call: too much on the generator's hot path).
    @inline(__always)
    func find(_ needle: [UInt8], from start: Index? = nil) -> Range<Index>? {
        let first = needle[0]
        var i = start ?? startIndex
        let last = endIndex - needle.count
        while i <= last {
            if self[i] == first {
                var j = 1
                while j < needle.count && self[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i..<(i + needle.count) }
            }
            i += 1
        }
        return nil
    }
}
