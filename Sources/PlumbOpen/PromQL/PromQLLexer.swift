import Foundation

/// A PromQL query that does not parse, with the byte offset Prometheus' own errors give ("1:5: parse error: …").
public struct PromQLParseError: Error, CustomStringConvertible, Equatable {
    public let position: Int
    public let message: String
    public var description: String { "1:\(position + 1): parse error: \(message)" }
}

/// PromQL's tokens.
enum PromQLToken: Equatable {
    case identifier(String)
    case number(Double)
    case duration(Int64)
    case string(String)
    case op(String)
    case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket, comma, colon, at
    case end
}

/// Splits a query into tokens; durations (`5m`, `1h30m`, `500ms`) are told from numbers by their unit.
struct PromQLLexer {
    let bytes: [UInt8]
    var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static let maxQueryBytes = 128 * 1_024

    mutating func tokens() throws(PromQLParseError) -> [(PromQLToken, Int)] {
        guard bytes.count <= Self.maxQueryBytes else {
            throw PromQLParseError(position: 0, message: "the query is longer than \(Self.maxQueryBytes) bytes")
        }
        var out: [(PromQLToken, Int)] = []
        while true {
            skipSpaceAndComments()
            let start = i
            guard i < bytes.count else {
                out.append((.end, i))
                return out
            }
            out.append((try next(), start))
        }
    }

    mutating func skipSpaceAndComments() {
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                i += 1
            } else if b == 0x23 {  // '#' comment to the end of the line
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else {
                return
            }
        }
    }

    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F || b == 0x3A
    }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    mutating func next() throws(PromQLParseError) -> PromQLToken {
        let b = bytes[i]
        let two = i + 1 < bytes.count ? String(decoding: bytes[i...(i + 1)], as: UTF8.self) : ""
        switch b {
        case 0x28:
            i += 1
            return .leftParen
        case 0x29:
            i += 1
            return .rightParen
        case 0x7B:
            i += 1
            return .leftBrace
        case 0x7D:
            i += 1
            return .rightBrace
        case 0x5B:
            i += 1
            return .leftBracket
        case 0x5D:
            i += 1
            return .rightBracket
        case 0x2C:
            i += 1
            return .comma
        case 0x3A where !(i + 1 < bytes.count && Self.isIdentifierStart(bytes[i + 1])):
            i += 1
            return .colon
        case 0x40:
            i += 1
            return .at
        case 0x22, 0x27, 0x60: return .string(try string())
        default: break
        }
        if ["==", "!=", ">=", "<=", "=~", "!~"].contains(two) {
            i += 2
            return .op(two)
        }
        if "+-*/%^<>=".utf8.contains(b) {
            i += 1
            return .op(String(UnicodeScalar(b)))
        }
        if Self.isDigit(b) || (b == 0x2E && i + 1 < bytes.count && Self.isDigit(bytes[i + 1])) {
            return try numberOrDuration()
        }
        if Self.isIdentifierStart(b) {
            let start = i
            while i < bytes.count, Self.isIdentifierStart(bytes[i]) || Self.isDigit(bytes[i]) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word.lowercased() {
            case "inf": return .number(.infinity)
            case "nan": return .number(.nan)
            default: return .identifier(word)
            }
        }
        throw PromQLParseError(position: i, message: "unexpected character '\(String(UnicodeScalar(b)))'")
    }

    mutating func numberOrDuration() throws(PromQLParseError) -> PromQLToken {
        let start = i
        // A duration: digits and units, repeated (`1h30m`).
        if let duration = durationAhead() { return .duration(duration) }
        i = start
        if i + 1 < bytes.count, bytes[i] == 0x30, bytes[i + 1] | 0x20 == 0x78 {  // 0x… hex
            i += 2
            while i < bytes.count, Self.isDigit(bytes[i]) || (bytes[i] | 0x20 >= 0x61 && bytes[i] | 0x20 <= 0x66) {
                i += 1
            }
            guard let value = UInt64(String(decoding: bytes[(start + 2)..<i], as: UTF8.self), radix: 16) else {
                throw PromQLParseError(position: start, message: "bad hexadecimal number")
            }
            return .number(Double(value))
        }
        while i < bytes.count, Self.isDigit(bytes[i]) || bytes[i] == 0x2E { i += 1 }
        if i < bytes.count, bytes[i] | 0x20 == 0x65 {  // exponent
            var j = i + 1
            if j < bytes.count, bytes[j] == 0x2B || bytes[j] == 0x2D { j += 1 }
            if j < bytes.count, Self.isDigit(bytes[j]) {
                i = j
                while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let value = Double(text) else { throw PromQLParseError(position: start, message: "bad number '\(text)'") }
        return .number(value)
    }

    /// The longest duration, as Go's `time.Duration` (2^63 - 1 ns).
    static let maxDurationMilliseconds: Int64 = 9_223_372_036_854

    /// Milliseconds of the duration starting here, or nil (the position is then undefined).
    mutating func durationAhead() -> Int64? {
        let units: [(String, Int64)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
            ("y", 31_536_000_000),
        ]
        var total: Int64 = 0
        var parts = 0
        while i < bytes.count, Self.isDigit(bytes[i]) {
            let start = i
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
            guard let n = Int64(String(decoding: bytes[start..<i], as: UTF8.self)) else { return nil }
            guard
                let (unit, scale) = units.first(where: { unit in
                    let u = Array(unit.0.utf8)
                    guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { return false }
                    // `m` must not be the start of `ms`.
                    return !(unit.0 == "m" && i + 1 < bytes.count && bytes[i + 1] == 0x73)
                })
            else { return nil }
            i += unit.utf8.count
            let (product, overflow) = n.multipliedReportingOverflow(by: scale)
            guard !overflow, case let (sum, o) = total.addingReportingOverflow(product), !o else { return nil }
            // Go's durations end at 2^63 ns: every time plus or minus one then fits in Int64.
            guard sum <= Self.maxDurationMilliseconds else { return nil }
            total = sum
            parts += 1
        }
        guard parts > 0,
            i >= bytes.count || bytes[i] == 0x3A || !(Self.isIdentifierStart(bytes[i]) || Self.isDigit(bytes[i]))
        else {
            return nil
        }
        return total
    }

    mutating func string() throws(PromQLParseError) -> String {
        let quote = bytes[i]
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else {
                throw PromQLParseError(position: start, message: "unterminated quoted string")
            }
            let b = bytes[i]
            i += 1
            if b == quote { break }
            if b == 0x5C, quote != 0x60 {
                guard i < bytes.count else {
                    throw PromQLParseError(position: start, message: "unterminated quoted string")
                }
                let e = bytes[i]
                i += 1
                switch e {
                case 0x6E: out.append(0x0A)
                case 0x74: out.append(0x09)
                case 0x72: out.append(0x0D)
                case 0x5C, 0x22, 0x27: out.append(e)
                case 0x61: out.append(0x07)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x76: out.append(0x0B)
                case 0x75, 0x55, 0x78:
                    let width = e == 0x75 ? 4 : e == 0x55 ? 8 : 2
                    guard i + width <= bytes.count,
                        let code = UInt32(String(decoding: bytes[i..<(i + width)], as: UTF8.self), radix: 16),
                        let scalar = UnicodeScalar(code)
                    else { throw PromQLParseError(position: i, message: "bad escape in a string") }
                    i += width
                    if e == 0x78 { out.append(UInt8(code)) } else { out += Array(String(Character(scalar)).utf8) }
                default:
                    throw PromQLParseError(
                        position: i - 1, message: "unknown escape sequence '\\\(String(UnicodeScalar(e)))'")
                }
            } else {
                out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw PromQLParseError(position: start, message: "a string is not UTF-8")
        }
        return text
    }
}
