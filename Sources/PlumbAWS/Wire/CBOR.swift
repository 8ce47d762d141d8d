import Foundation
import PlumbAPI

/// CBOR (RFC 8949) as Smithy RPC v2 uses it, to and from the services' JSON values: maps with text keys, arrays,
/// text, byte strings (read as base64 text, as the JSON protocols send blobs), integers and floats (half, single and
/// double), booleans, null, and tag 1 (epoch-seconds timestamps); definite and indefinite lengths.
enum CBOR {
    static let maxDepth = 64

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: - Reading

    static func decode(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var reader = Reader(bytes: bytes)
        let value = try reader.item(depth: 0)
        guard reader.offset == bytes.count else {
            throw Failure(description: "\(bytes.count - reader.offset) bytes follow the CBOR item")
        }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw Failure(description: "the CBOR item is cut short") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: UInt64) throws(Failure) -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count - offset) else {
                throw Failure(description: "a CBOR length of \(count) runs past the body")
            }
            let end = offset + Int(count)
            defer { offset = end }
            return bytes[offset..<end]
        }

        /// The argument of a head: the additional information itself, or the 1, 2, 4 or 8 bytes after it.
        mutating func argument(_ info: UInt8) throws(Failure) -> UInt64 {
            switch info {
            case 0...23: return UInt64(info)
            case 24...27:
                var value: UInt64 = 0
                for byte in try take(1 << (info - 24)) { value = value << 8 | UInt64(byte) }
                return value
            default: throw Failure(description: "the CBOR additional information \(info) is reserved here")
            }
        }

        mutating func item(depth: Int) throws(Failure) -> JSONValue {
            guard depth < CBOR.maxDepth else { throw Failure(description: "CBOR nested deeper than \(CBOR.maxDepth)") }
            let head = try byte()
            let major = head >> 5
            let info = head & 0x1F
            switch major {
            case 0: return .number(Double(try argument(info)))
            case 1: return .number(-1 - Double(try argument(info)))
            case 2: return .string(Data(try bytesOrText(major: 2, info: info)).base64EncodedString())
            case 3:
                guard let text = String(validating: try bytesOrText(major: 3, info: info), as: UTF8.self) else {
                    throw Failure(description: "a CBOR text string is not UTF-8")
                }
                return .string(text)
            case 4:
                var items: [JSONValue] = []
                if info == 31 {
                    while try peekBreak() == false { items.append(try item(depth: depth + 1)) }
                } else {
                    let count = try argument(info)
                    // Each item takes a byte at least: a larger count is a lie about the body.
                    guard count <= UInt64(bytes.count - offset) else {
                        throw Failure(description: "a CBOR array of \(count) items runs past the body")
                    }
                    items.reserveCapacity(min(Int(count), 1_024))
                    for _ in 0..<count { items.append(try item(depth: depth + 1)) }
                }
                return .array(items)
            case 5:
                var members: [String: JSONValue] = [:]
                if info == 31 {
                    while try peekBreak() == false { try member(into: &members, depth: depth) }
                } else {
                    let count = try argument(info)
                    guard count <= UInt64(bytes.count - offset) / 2 else {
                        throw Failure(description: "a CBOR map of \(count) pairs runs past the body")
                    }
                    for _ in 0..<count { try member(into: &members, depth: depth) }
                }
                return .object(members)
            case 6:
                // Tag 1 (epoch seconds) is Smithy's timestamp; tag 0 (RFC 3339 text), which general CBOR libraries
                // write for a date, is read as the same time.
                let tag = try argument(info)
                let tagged = try item(depth: depth + 1)
                switch (tag, tagged) {
                case (1, .number): return tagged
                case (0, .string(let text)):
                    guard let seconds = TimeParsing.rfc3339(text) else {
                        throw Failure(description: "the CBOR date '\(text.prefix(60))' is not RFC 3339")
                    }
                    return .number(seconds)
                default:
                    throw Failure(description: "CBOR tag \(tag) is not served (tag 1 and 0, times, are)")
                }
            default:
                return try simple(info)
            }
        }

        mutating func member(into members: inout [String: JSONValue], depth: Int) throws(Failure) {
            guard offset < bytes.count, bytes[offset] >> 5 == 3, case .string(let key) = try item(depth: depth + 1)
            else { throw Failure(description: "a CBOR map key is not text") }
            let value = try item(depth: depth + 1)
            guard members.updateValue(value, forKey: key) == nil else {
                throw Failure(description: "the CBOR map has the key '\(key.prefix(100))' twice")
            }
        }

        /// Whether the next byte is the break (0xFF) that ends an indefinite-length item; consumed if so.
        mutating func peekBreak() throws(Failure) -> Bool {
            guard offset < bytes.count else { throw Failure(description: "an indefinite CBOR item is not closed") }
            if bytes[offset] == 0xFF {
                offset += 1
                return true
            }
            return false
        }

        /// A byte or text string's content, joining an indefinite string's chunks (each of the same major type).
        mutating func bytesOrText(major: UInt8, info: UInt8) throws(Failure) -> [UInt8] {
            guard info == 31 else { return Array(try take(try argument(info))) }
            var joined: [UInt8] = []
            while try peekBreak() == false {
                let head = try byte()
                guard head >> 5 == major, head & 0x1F != 31 else {
                    throw Failure(description: "an indefinite CBOR string has a chunk of another kind")
                }
                joined += try take(try argument(head & 0x1F))
            }
            return joined
        }

        mutating func simple(_ info: UInt8) throws(Failure) -> JSONValue {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22, 23: return .null
            case 25:
                let bits = UInt16(try argument(25))
                return .number(Double(Float16Bits.value(bits)))
            case 26: return .number(Double(Float(bitPattern: UInt32(try argument(26)))))
            case 27: return .number(Double(bitPattern: try argument(27)))
            default: throw Failure(description: "the CBOR simple value \(info) is not served")
            }
        }
    }

    /// IEEE half precision, decoded by hand (Float16 is not on every platform Swift builds for).
    enum Float16Bits {
        static func value(_ bits: UInt16) -> Double {
            let sign: Double = bits & 0x8000 == 0 ? 1 : -1
            let exponent = Int((bits >> 10) & 0x1F)
            let fraction = Double(bits & 0x3FF)
            switch exponent {
            case 0: return sign * fraction * 0x1p-24
            case 31: return fraction == 0 ? sign * .infinity : .nan
            default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
            }
        }
    }

    // MARK: - Writing

    /// `value` as CBOR: the members `types` names as doubles are doubles even when whole (so a client reads `2.0`,
    /// not `2`), other whole numbers integers; times carry tag 1.
    static func encode(_ value: JSONValue, types: AWSMemberTypes) -> [UInt8] {
        var out: [UInt8] = []
        write(value, name: "", types: types, into: &out)
        return out
    }

    static func write(_ value: JSONValue, name: String, types: AWSMemberTypes, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xF6)
        case .bool(let flag): out.append(flag ? 0xF5 : 0xF4)
        case .string(let text):
            head(3, UInt64(text.utf8.count), into: &out)
            out += text.utf8
        case .number(let number):
            let time = types.timestamps.contains(name)
            if time { out.append(0xC1) }
            if !types.doubles.contains(name), number == number.rounded(), abs(number) < 9.0e18 {
                let whole = Int64(number)
                if whole >= 0 { head(0, UInt64(whole), into: &out) } else { head(1, UInt64(-1 - whole), into: &out) }
            } else {
                out.append(0xFB)
                let bits = number.bitPattern
                for shift in stride(from: 56, through: 0, by: -8) {
                    out.append(UInt8(truncatingIfNeeded: bits >> shift))
                }
            }
        case .array(let items):
            head(4, UInt64(items.count), into: &out)
            for item in items { write(item, name: name, types: types, into: &out) }
        case .object(let members):
            head(5, UInt64(members.count), into: &out)
            let isMap = types.maps.contains(name)
            for key in members.keys.sorted() {
                write(.string(key), name: "", types: types, into: &out)
                write(members[key]!, name: isMap ? name : key, types: types, into: &out)
            }
        }
    }

    static func head(_ major: UInt8, _ argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0...23: out.append(type | UInt8(argument))
        case 24...0xFF: out += [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: out += [type | 25, UInt8(argument >> 8), UInt8(truncatingIfNeeded: argument)]
        case 0x1_0000...0xFFFF_FFFF:
            out.append(type | 26)
            for shift in stride(from: 24, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: argument >> shift))
            }
        default:
            out.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: argument >> shift))
            }
        }
    }
}
