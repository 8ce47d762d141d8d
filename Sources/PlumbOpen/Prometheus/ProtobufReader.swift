import Foundation
import PlumbAPI
import PlumbMetrics

/// A cursor over protobuf bytes, for the ingest hot paths that read their messages straight off the wire instead of
/// building the generated messages first (remote write's `WriteRequest`, OTLP's number points). Every length is
/// checked against what is left; a field of an unknown number is skipped by its wire type, as protobuf requires.
struct ProtobufReader {
    let bytes: [UInt8]
    var position = 0

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func varint(limit: Int) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < limit else { throw Malformed(description: "truncated at byte \(position)") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(description: "a varint longer than 10 bytes at \(position)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The field number and wire type of the next field, or nil at `limit`.
    mutating func tag(limit: Int) throws -> (field: UInt64, wire: UInt64)? {
        guard position < limit else { return nil }
        let tag = try varint(limit: limit)
        guard tag >> 3 > 0 else { throw Malformed(description: "field number 0 at byte \(position)") }
        return (tag >> 3, tag & 7)
    }

    /// The range of a length-delimited field's payload.
    mutating func delimited(limit: Int) throws -> Range<Int> {
        let length = try varint(limit: limit)
        guard length <= UInt64(limit - position) else {
            throw Malformed(description: "a field of \(length) bytes at byte \(position) runs past its message")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    mutating func skip(wire: UInt64, limit: Int) throws {
        switch wire {
        case 0: _ = try varint(limit: limit)
        case 1, 5:
            let size = wire == 1 ? 8 : 4
            guard size <= limit - position else { throw Malformed(description: "truncated at byte \(position)") }
            position += size
        case 2: _ = try delimited(limit: limit)
        default: throw Malformed(description: "wire type \(wire) at byte \(position)")
        }
    }

    func fixed64(at start: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<8 { value |= UInt64(bytes[start + k]) << (8 * UInt64(k)) }
        return value
    }

    func string(_ range: Range<Int>, _ what: String) throws -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw Malformed(description: "\(what) is not UTF-8")
        }
        return text
    }
}

/// A series' label bytes as a dictionary key: hashed once, when made, by FNV-1a over 8-byte words (the dictionary's
/// own hasher then mixes 8 bytes, not the whole slice), and compared with `memcmp`.
struct LabelBytes: Hashable {
    let bytes: ArraySlice<UInt8>
    let digest: UInt64

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        bytes.withUnsafeBytes { raw in
            var i = 0
            while i + 8 <= raw.count {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                i += 8
            }
            while i < raw.count {
                h = (h ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3
                i += 1
            }
        }
        digest = h
    }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    static func == (a: LabelBytes, b: LabelBytes) -> Bool {
        a.digest == b.digest && a.bytes.count == b.bytes.count
            && a.bytes.withUnsafeBytes { x in
                b.bytes.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
            }
    }
}
