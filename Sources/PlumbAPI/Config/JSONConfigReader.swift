/// A `ConfigReader` for JSON documents, with lines: the reader of a domain built without the server's YAML one
/// (tests, tools). Numbers, `true`, `false` and `null` keep their text, as a YAML reader gives them.
public struct JSONConfigReader: ConfigReader {
    public init() {}

    public func read(_ text: String, file: String) throws(AlertFileError) -> ConfigNode? {
        var parser = Parser(bytes: Array(text.utf8))
        do throws(Failure) {
            parser.skipSpace()
            if parser.atEnd { return nil }
            let node = try parser.value(depth: 0)
            parser.skipSpace()
            guard parser.atEnd else { throw parser.fail("unexpected text after the document") }
            return node
        } catch {
            throw AlertFileError(file: file, line: error.line, field: "", message: error.message)
        }
    }

    struct Failure: Error {
        var line: Int
        var message: String
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0
        var line = 1

        var atEnd: Bool { index >= bytes.count }

        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                if bytes[index] == 0x0A { line += 1 }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(Failure) -> ConfigNode {
            guard depth < 128 else { throw fail("nested too deeply") }
            skipSpace()
            guard !atEnd else { throw fail("unexpected end of the document") }
            let start = line
            switch bytes[index] {
            case UInt8(ascii: "{"): return ConfigNode(.mapping(try entries(depth: depth)), line: start)
            case UInt8(ascii: "["): return ConfigNode(.sequence(try items(depth: depth)), line: start)
            case UInt8(ascii: "\""): return ConfigNode(.scalar(try string()), line: start)
            default:
                let literal = word()
                switch literal {
                case "null": return ConfigNode(.null(literal), line: start)
                case "true", "false": return ConfigNode(.scalar(literal), line: start)
                default:
                    guard !literal.isEmpty, Double(literal) != nil else {
                        throw fail("'\(literal.prefix(20))' is not a JSON value")
                    }
                    return ConfigNode(.scalar(literal), line: start)
                }
            }
        }

        mutating func word() -> String {
            let start = index
            while index < bytes.count, !" \t\r\n,]}:".utf8.contains(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            skipSpace()
            guard !atEnd, bytes[index] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        /// After `{`: key-value pairs up to `}`.
        mutating func entries(depth: Int) throws(Failure) -> [ConfigNode.Entry] {
            index += 1
            var out: [ConfigNode.Entry] = []
            skipSpace()
            if !atEnd, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return out
            }
            while true {
                skipSpace()
                guard !atEnd, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyLine = line
                let key = ConfigNode(.scalar(try string()), line: keyLine)
                try expect(UInt8(ascii: ":"))
                out.append(.init(key: key, value: try value(depth: depth + 1)))
                skipSpace()
                guard !atEnd else { throw fail("unexpected end of the document") }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "}") { return out }
                guard bytes[index - 1] == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or '}'")
                }
            }
        }

        /// After `[`: values up to `]`.
        mutating func items(depth: Int) throws(Failure) -> [ConfigNode] {
            index += 1
            var out: [ConfigNode] = []
            skipSpace()
            if !atEnd, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return out
            }
            while true {
                out.append(try value(depth: depth + 1))
                skipSpace()
                guard !atEnd else { throw fail("unexpected end of the document") }
                index += 1
                if bytes[index - 1] == UInt8(ascii: "]") { return out }
                guard bytes[index - 1] == UInt8(ascii: ",") else {
                    index -= 1
                    throw fail("expected ',' or ']'")
                }
            }
        }

        /// A quoted string, unescaped (`\uXXXX` with surrogate pairs).
        mutating func string() throws(Failure) -> String {
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case 0x0A: throw fail("a line break inside a string")
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { break }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"): out += Array(String(try unicodeEscape()).utf8)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                    default: throw fail("unknown escape '\\\(Character(Unicode.Scalar(escaped)))'")
                    }
                default: out.append(byte)
                }
            }
            throw fail("a string without its closing quote")
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard index + 4 <= bytes.count,
                let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else {
                throw fail("\\u needs four hex digits")
            }
            index += 4
            return value
        }

        mutating func unicodeEscape() throws(Failure) -> Character {
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code), index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
            {
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("an unpaired surrogate in \\u escapes") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw fail("an unpaired surrogate in \\u escapes") }
            return Character(scalar)
        }
    }
}
