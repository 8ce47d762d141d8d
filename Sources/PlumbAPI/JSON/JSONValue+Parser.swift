/// A strict JSON parser straight from bytes to `JSONValue` (RFC 8259: no trailing commas, no comments, no
/// non-finite numbers), several times faster than `JSONDecoder` through `JSONValue(from:)`. Nesting deeper than
/// `maxDepth` is refused rather than recursed into.
extension JSONValue {
    public static let maxDepth = 512

    /// Parses a whole document; nil when `bytes` are not one JSON value (surrounding whitespace allowed).
    public static func parseStrict(_ bytes: some Collection<UInt8>) -> JSONValue? {
        let array = Array(bytes)
        return array.withUnsafeBufferPointer { buffer -> JSONValue? in
            var parser = JSONByteParser(bytes: buffer)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipSpace()
            guard parser.offset == buffer.count else { return nil }
            return value
        }
    }
}

/// The parser over a byte buffer. Its token-level steps (`skipSpace`, `skipLiteral`, `numberSpan`, `stringSpan`) are
/// public so that a scanner that only checks and locates values (the log filter patterns' JSON program) applies the
/// same grammar as the parser.
public struct JSONByteParser {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var offset = 0

    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// Steps over `text` when the bytes at `offset` are exactly it.
    public mutating func skipLiteral(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        for i in 0..<n where bytes[offset + i] != text.utf8Start[i] { return false }
        offset += n
        return true
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        skipLiteral(text) ? value : nil
    }

    mutating func value(depth: Int) -> JSONValue? {
        guard depth < JSONValue.maxDepth else { return nil }
        skipSpace()
        guard offset < bytes.count else { return nil }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(object)
            }
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { return nil }
                offset += 1
                guard let member = value(depth: depth + 1) else { return nil }
                object[key] = member
                skipSpace()
                guard offset < bytes.count else { return nil }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                guard bytes[offset] == UInt8(ascii: "}") else { return nil }
                offset += 1
                return .object(object)
            }
        case UInt8(ascii: "["):
            offset += 1
            var array: [JSONValue] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(array)
            }
            while true {
                guard let element = value(depth: depth + 1) else { return nil }
                array.append(element)
                skipSpace()
                guard offset < bytes.count else { return nil }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                guard bytes[offset] == UInt8(ascii: "]") else { return nil }
                offset += 1
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    /// Steps over a number, `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; returns its bytes and whether it
    /// is written as an integer. Whether it is finite is the caller's check.
    public mutating func numberSpan() -> (range: Range<Int>, integral: Bool)? {
        let start = offset
        func digits(_ o: inout Int) -> Int {
            let s = o
            while o < bytes.count, bytes[o] >= 0x30, bytes[o] <= 0x39 { o += 1 }
            return o - s
        }
        var o = offset
        if o < bytes.count, bytes[o] == UInt8(ascii: "-") { o += 1 }
        guard o < bytes.count else { return nil }
        if bytes[o] == UInt8(ascii: "0") {
            o += 1
        } else {
            guard digits(&o) > 0 else { return nil }
        }
        var integral = true
        if o < bytes.count, bytes[o] == UInt8(ascii: ".") {
            o += 1
            integral = false
            guard digits(&o) > 0 else { return nil }
        }
        if o < bytes.count, bytes[o] == UInt8(ascii: "e") || bytes[o] == UInt8(ascii: "E") {
            o += 1
            integral = false
            if o < bytes.count, bytes[o] == UInt8(ascii: "+") || bytes[o] == UInt8(ascii: "-") { o += 1 }
            guard digits(&o) > 0 else { return nil }
        }
        offset = o
        return (start..<o, integral)
    }

    /// A number, finite.
    mutating func number() -> JSONValue? {
        guard let (range, integral) = numberSpan() else { return nil }
        // Short integers exactly, without a string (at most 15 characters: no overflow).
        if integral && range.count <= 15 {
            var v: Int64 = 0
            var i = range.lowerBound
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            while i < range.upperBound {
                v = v * 10 + Int64(bytes[i] &- 0x30)
                i += 1
            }
            return .number(negative ? -Double(v) : Double(v))
        }
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)),
            value.isFinite
        else { return nil }
        return .number(value)
    }

    /// Steps over a string at `offset` (on its opening quote) and returns the range between its quotes, checking
    /// what the decoder needs to hold: no control characters, known escapes, `\u` surrogates in pairs. The UTF-8
    /// itself is checked where the text is decoded.
    public mutating func stringSpan() -> (range: Range<Int>, escaped: Bool)? {
        offset += 1
        let start = offset
        var escaped = false
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                offset += 1
                return (start..<(offset - 1), escaped)
            }
            if b < 0x20 { return nil }
            offset += 1
            guard b == UInt8(ascii: "\\") else { continue }
            escaped = true
            guard offset < bytes.count else { return nil }
            let e = bytes[offset]
            offset += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                continue
            case UInt8(ascii: "u"):
                guard let scalar = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                        bytes[offset + 1] == UInt8(ascii: "u")
                    else { return nil }
                    offset += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
            default:
                return nil
            }
        }
        return nil
    }

    /// A string at `offset` (on its opening quote), escapes decoded; nil on a control character, a bad escape, a
    /// lone surrogate or invalid UTF-8.
    mutating func string() -> String? {
        guard let (range, escaped) = stringSpan() else { return nil }
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard escaped else { return String(validating: raw, as: UTF8.self) }
        // The span was checked: every escape is known and every surrogate paired.
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for b in raw[at..<(at + 4)] {
                v = v << 4 | UInt32(b <= 0x39 ? b &- 0x30 : (b | 0x20) &- 0x61 &+ 10)
            }
            return v
        }
        while i < raw.count {
            let b = raw[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex(i + 2) - 0xDC00)
                    i += 6
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: String(Character(unicode)).utf8)
            default: out.append(e)  // " \ /
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Four hex digits at `offset`.
    public mutating func hex4() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[offset]
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }
}
