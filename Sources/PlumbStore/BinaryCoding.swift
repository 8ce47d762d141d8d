/// Appends little-endian values to a byte buffer: the encoding of journal entries and stored distributions.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    /// LEB128 unsigned varint.
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zig-zag signed varint.
    public mutating func writeSignedVarint(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func writeDouble(_ value: Double) {
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeBytes(_ other: [UInt8]) {
        bytes.append(contentsOf: other)
    }
}

/// Reads what `BinaryWriter` wrote; every read is bounds-checked and throws on truncated input.
public struct BinaryReader {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    public var isAtEnd: Bool { offset >= bytes.count }

    public mutating func readByte() throws -> UInt8 {
        guard offset < bytes.count else { throw StoreError(code: .corrupt, message: "truncated record") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw StoreError(code: .corrupt, message: "varint overflow") }
        }
    }

    public mutating func readSignedVarint() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    public mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw StoreError(code: .corrupt, message: "truncated record")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func readDouble() throws -> Double {
        guard offset + 8 <= bytes.count else { throw StoreError(code: .corrupt, message: "truncated record") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: UInt64(littleEndian: bits))
    }
}
