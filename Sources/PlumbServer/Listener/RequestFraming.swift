/// Follows where HTTP/1.1 requests start and end in the raw byte stream of a connection, without parsing them.
///
/// The connection guard needs to know, byte by byte, whether a client is in a request head, in a body or between
/// requests, and how large the head is, *before* NIO's HTTP parser sees the bytes: that parser gives up on a head
/// over its limit with an error nobody answers (the client used to hang), and it cannot say that a head is merely
/// slow. So this reads the framing only: the end of the head (an empty line), `Content-Length`,
/// `Transfer-Encoding: chunked` (chunk sizes, extensions, trailers) and `Upgrade`. Leading empty lines between
/// requests are skipped, as RFC 9112 §2.2 allows. Anything it cannot frame is `malformed`; NIO's stricter parser would
/// reject it too.
struct RequestFraming {
    enum Event: Equatable, Sendable {
        /// The first byte of a request head.
        case headStarted
        /// The empty line ending the head; `upgrade`: the head asks for a protocol switch (WebSocket).
        case headEnded(upgrade: Bool)
        /// The last byte of the request (its head, when it has no body).
        case requestEnded
        /// The head passed `maxHeadBytes` or `maxHeaderFields`; nothing after it is framed.
        case headTooLarge
        /// Bytes no HTTP/1.1 request can contain here; nothing after them is framed.
        case malformed
    }

    enum Phase: Equatable, Sendable {
        case betweenRequests, head, body
        /// The request asked to switch protocols: its bytes after the head belong to whoever answers it.
        case awaitingUpgrade
        /// Not HTTP/1.1 framing any more (switched protocols, or after an error): bytes pass uncounted.
        case opaque
    }

    private enum HeadScan { case requestLine, lineStart, name, value, skipLine }
    private enum Field { case contentLength, transferEncoding, upgrade }
    private enum BodyScan: Equatable {
        case length(UInt64)
        case chunkSize(value: UInt64, digits: Int, inExtension: Bool, lineBytes: Int)
        case chunkData(UInt64)
        case chunkDataEnd
        case trailerLineStart
        case trailerLine
    }

    let maxHeadBytes: Int
    let maxHeaderFields: Int
    private(set) var phase = Phase.betweenRequests

    private var headBytes = 0
    private var headerFields = 0
    private var scan = HeadScan.requestLine
    private var token: [UInt8] = []
    private var field: Field?
    private var contentLength: [UInt8]?
    private var transferEncoding: [UInt8]?
    private var upgrade = false
    private var bodyScan = BodyScan.length(0)
    private var trailerBytes = 0

    init(maxHeadBytes: Int, maxHeaderFields: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderFields = maxHeaderFields
        token.reserveCapacity(32)
    }

    /// Frames `bytes`, which follow everything consumed before.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var index = 0
        while index < bytes.count {
            switch phase {
            case .betweenRequests:
                let byte = bytes[index]
                if byte == 13 || byte == 10 {
                    index += 1
                } else {
                    startHead()
                    events.append(.headStarted)
                }
            case .head:
                let byte = bytes[index]
                index += 1
                headBytes += 1
                guard headBytes <= maxHeadBytes else {
                    phase = .opaque
                    events.append(.headTooLarge)
                    return events
                }
                headByte(byte, events: &events)
            case .body:
                index = bodyBytes(bytes, from: index, events: &events)
            case .awaitingUpgrade, .opaque:
                return events
            }
        }
        return events
    }

    /// The answer to an upgrade request was written: `switched` (101) leaves HTTP/1.1 for good; anything else means
    /// the connection goes on with the next request.
    mutating func upgradeAnswered(switched: Bool) {
        guard phase == .awaitingUpgrade else { return }
        phase = switched ? .opaque : .betweenRequests
    }

    private mutating func startHead() {
        phase = .head
        headBytes = 0
        headerFields = 0
        scan = .requestLine
        token.removeAll(keepingCapacity: true)
        field = nil
        contentLength = nil
        transferEncoding = nil
        upgrade = false
    }

    private mutating func headByte(_ byte: UInt8, events: inout [Event]) {
        switch scan {
        case .requestLine:
            if byte == 10 { scan = .lineStart }
        case .lineStart:
            if byte == 13 { return }
            if byte == 10 {
                endHead(events: &events)
            } else if byte == 32 || byte == 9 {
                scan = .skipLine  // obsolete line folding: the rest of the previous field
            } else {
                headerFields += 1
                guard headerFields <= maxHeaderFields else {
                    phase = .opaque
                    events.append(.headTooLarge)
                    return
                }
                token.removeAll(keepingCapacity: true)
                token.append(Self.lowercased(byte))
                scan = .name
            }
        case .name:
            if byte == UInt8(ascii: ":") {
                field = Self.field(named: token)
                token.removeAll(keepingCapacity: true)
                scan = field == nil ? .skipLine : .value
            } else if byte == 10 {
                fail(events: &events)
            } else if token.count < 24 {
                token.append(Self.lowercased(byte))
            }
        case .value:
            if byte == 10 {
                commitField()
                scan = .lineStart
            } else if token.count < 1_024 {
                token.append(byte)
            }
        case .skipLine:
            if byte == 10 { scan = .lineStart }
        }
    }

    private mutating func commitField() {
        let value = Array(Self.trimmed(token))
        switch field {
        case .contentLength:
            // Repeated Content-Length fields must agree (RFC 9110 §8.6); "5, 5" is one of those repeats.
            contentLength = contentLength.map { $0 + Array(",".utf8) + value } ?? value
        case .transferEncoding:
            transferEncoding = transferEncoding.map { $0 + Array(",".utf8) + value } ?? value
        case .upgrade:
            upgrade = upgrade || !value.isEmpty
        case nil:
            break
        }
        field = nil
        token.removeAll(keepingCapacity: true)
    }

    private mutating func endHead(events: inout [Event]) {
        events.append(.headEnded(upgrade: upgrade))
        if let transferEncoding {
            // Only a final `chunked` coding frames a request body (RFC 9112 §6.3); any other coding is an error.
            let last = transferEncoding.split(separator: UInt8(ascii: ",")).last.map {
                Self.trimmed(Array($0)).map(Self.lowercased)
            }
            guard last == Array("chunked".utf8) else { return fail(events: &events) }
            phase = .body
            bodyScan = .chunkSize(value: 0, digits: 0, inExtension: false, lineBytes: 0)
            trailerBytes = 0
        } else if let contentLength {
            let values = Set(
                contentLength.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map {
                    Self.trimmed(Array($0))
                })
            guard values.count == 1, let text = values.first, !text.isEmpty, text.count <= 18,
                text.allSatisfy({ (48...57).contains($0) }), let length = UInt64(String(decoding: text, as: UTF8.self))
            else { return fail(events: &events) }
            if length == 0 {
                endRequest(events: &events)
            } else {
                phase = .body
                bodyScan = .length(length)
            }
        } else {
            endRequest(events: &events)
        }
    }

    private mutating func endRequest(events: inout [Event]) {
        events.append(.requestEnded)
        phase = upgrade ? .awaitingUpgrade : .betweenRequests
    }

    private mutating func fail(events: inout [Event]) {
        phase = .opaque
        events.append(.malformed)
    }

    /// Consumes body bytes from `start`; returns the index after them.
    private mutating func bodyBytes(_ bytes: UnsafeRawBufferPointer, from start: Int, events: inout [Event]) -> Int {
        var index = start
        while index < bytes.count && phase == .body {
            switch bodyScan {
            case .length(let remaining), .chunkData(let remaining):
                let taken = min(remaining, UInt64(bytes.count - index))
                index += Int(taken)
                let left = remaining - taken
                if case .length = bodyScan {
                    bodyScan = .length(left)
                    if left == 0 { endRequest(events: &events) }
                } else {
                    bodyScan = left == 0 ? .chunkDataEnd : .chunkData(left)
                }
            case .chunkSize(let value, let digits, let inExtension, let lineBytes):
                chunkSizeByte(
                    bytes[index], value: value, digits: digits, inExtension: inExtension, lineBytes: lineBytes,
                    events: &events)
                index += 1
            case .chunkDataEnd:
                let byte = bytes[index]
                index += 1
                if byte == 10 {
                    bodyScan = .chunkSize(value: 0, digits: 0, inExtension: false, lineBytes: 0)
                } else if byte != 13 {
                    fail(events: &events)
                }
            case .trailerLineStart, .trailerLine:
                trailerByte(bytes[index], events: &events)
                index += 1
            }
        }
        return index
    }

    /// One byte of a chunk-size line (`1a;name=value\r\n`): hex digits, then an extension or CR, then LF.
    private mutating func chunkSizeByte(
        _ byte: UInt8, value: UInt64, digits: Int, inExtension: Bool, lineBytes: Int, events: inout [Event]
    ) {
        guard lineBytes < 4_096 else { return fail(events: &events) }
        var (value, digits, inExtension) = (value, digits, inExtension)
        if byte == 10 {
            guard digits > 0 else { return fail(events: &events) }
            bodyScan = value == 0 ? .trailerLineStart : .chunkData(value)
            return
        } else if byte == 13 || inExtension {
            // CR before LF, or inside a chunk extension: nothing to frame.
        } else if byte == UInt8(ascii: ";") || byte == 32 || byte == 9 {
            inExtension = true
        } else if let digit = Self.hexValue(byte), digits < 16 {
            digits += 1
            value = value << 4 | UInt64(digit)
        } else {
            return fail(events: &events)
        }
        bodyScan = .chunkSize(value: value, digits: digits, inExtension: inExtension, lineBytes: lineBytes + 1)
    }

    /// One byte of the trailer after the last chunk: lines until an empty one ends the request.
    private mutating func trailerByte(_ byte: UInt8, events: inout [Event]) {
        trailerBytes += 1
        guard trailerBytes <= maxHeadBytes else {
            phase = .opaque
            events.append(.headTooLarge)
            return
        }
        if bodyScan == .trailerLineStart {
            if byte == 10 {
                endRequest(events: &events)
            } else if byte != 13 {
                bodyScan = .trailerLine
            }
        } else if byte == 10 {
            bodyScan = .trailerLineStart
        }
    }

    private static func field(named name: [UInt8]) -> Field? {
        switch String(decoding: name, as: UTF8.self) {
        case "content-length": .contentLength
        case "transfer-encoding": .transferEncoding
        case "upgrade": .upgrade
        default: nil
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }

    private static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else {
            return []
        }
        return bytes[first...last]
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}
