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

struct JSONByteParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let n = text.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return nil }
        for i in 0..<n where bytes[offset + i] != text.utf8Start[i] { return nil }
        offset += n
        return value
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

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite.
    mutating func number() -> JSONValue? {
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
        // Short integers exactly, without a string.
        if integral && o - start <= 15 {
            var v: Int64 = 0
            var i = start
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            while i < o {
                v = v * 10 + Int64(bytes[i] - 0x30)
                i += 1
            }
            return .number(negative ? -Double(v) : Double(v))
        }
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<o]), as: UTF8.self)),
            value.isFinite
        else { return nil }
        return .number(value)
    }

    /// A string at `offset` (on its opening quote), escapes decoded; nil on a control character, a bad escape, a
    /// lone surrogate or invalid UTF-8.
    mutating func string() -> String? {
        offset += 1
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
                offset += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { return nil }
            offset += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let b = bytes[offset]
            switch b {
            case UInt8(ascii: "\""):
                offset += 1
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                offset += 1
                guard offset < bytes.count else { return nil }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                            bytes[offset + 1] == UInt8(ascii: "u")
                        else { return nil }
                        offset += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default: return nil
                }
            default:
                if b < 0x20 { return nil }
                out.append(b)
                offset += 1
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
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
