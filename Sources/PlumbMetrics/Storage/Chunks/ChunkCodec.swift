import PlumbStore

/// The bytes of a sealed chunk: one series' raw samples (epoch seconds, finite doubles), as small as they can be made
/// cheaply, for a page-sized row.
///
/// - Timestamps: the first as a zig-zag varint, the first gap, then each change of gap (delta-of-delta): regular
///   samples cost one byte each, most of them a zero.
/// - Values, decimal when every value is a short decimal (what line protocol and gauges send: `12.5`, `33.333`,
///   counters): a scale `e` (0–9) and the integers `v × 10^e`, each as the zig-zag varint of its difference from the
///   one before — as VictoriaMetrics stores decimals, and a gauge that moves a little costs one or two bytes.
/// - Values otherwise (`1/3`, large or tiny magnitudes, -0): the XOR of each value's bits with the one before, as
///   Gorilla does, written as the count of trailing zero bits and the rest as a varint.
/// - Then the whole body through zlib when that is smaller (repeats across the body: the same delta over and over).
public enum ChunkCodec {
    static let decimalFlag: UInt8 = 1
    static let zlibFlag: UInt8 = 2
    static let maxScale = 9
    static let powers: [Double] = (0...maxScale).map { pow10($0) }

    static func pow10(_ e: Int) -> Double {
        var p = 1.0
        for _ in 0..<e { p *= 10 }
        return p
    }

    public static func encode(timestamps: [Int64], values: [Double]) -> [UInt8] {
        precondition(timestamps.count == values.count, "one value a timestamp")
        var body = BinaryWriter(capacity: timestamps.count * 3 + 16)
        body.writeVarint(UInt64(timestamps.count))
        writeTimestamps(timestamps, into: &body)
        var flags: UInt8 = 0
        if let scale = decimalScale(values) {
            flags |= decimalFlag
            body.writeByte(UInt8(scale))
            var previous: Int64 = 0
            for value in values {
                let mantissa = Int64((value * powers[scale]).rounded())
                body.writeSignedVarint(mantissa &- previous)
                previous = mantissa
            }
        } else {
            var previous: UInt64 = 0
            for value in values {
                let bits = value.bitPattern
                let xor = bits ^ previous
                let zeros = xor == 0 ? 0 : xor.trailingZeroBitCount
                body.writeByte(UInt8(zeros))
                body.writeVarint(xor >> UInt64(zeros))
                previous = bits
            }
        }
        let plain = body.bytes
        if plain.count > 64, let packed = try? Zlib.compress(plain, level: 6), packed.count + 4 < plain.count {
            var out = BinaryWriter(capacity: packed.count + 8)
            out.writeByte(flags | zlibFlag)
            out.writeVarint(UInt64(plain.count))
            out.writeBytes(packed)
            return out.bytes
        }
        return [flags] + plain
    }

    /// Calls `body` with each sample of a chunk, in order, decoding the chunk where it lies and materializing
    /// nothing (`inflated` holds the body of a zlib chunk; it is reused from chunk to chunk).
    @inline(__always)
    static func forEachSample(
        _ bytes: UnsafeRawBufferPointer, inflated: inout [UInt8], _ body: (Int64, Double) -> Void
    ) throws {
        var outer = ByteCursor(bytes)
        let flags = try outer.byte()
        if flags & zlibFlag != 0 {
            let size = try outer.varint()
            guard size <= 64 * 1_048_576 else {
                throw StoreError(code: .corrupt, message: "chunk body of \(size) bytes")
            }
            try Zlib.decompress(outer.rest, into: &inflated, originalSize: Int(size))
            try inflated.withUnsafeBytes { plain in
                try walk(ByteCursor(UnsafeRawBufferPointer(rebasing: plain[..<Int(size)])), flags: flags, body)
            }
        } else {
            try walk(outer, flags: flags, body)
        }
    }

    /// The samples of a chunk body: a cursor on the timestamps and one on the values, moved together.
    @inline(__always)
    private static func walk(_ cursor: ByteCursor, flags: UInt8, _ body: (Int64, Double) -> Void) throws {
        var times = cursor
        guard let count = Int(exactly: try times.varint()) else {
            throw StoreError(code: .corrupt, message: "chunk sample count out of range")
        }
        guard count <= times.remaining else {
            throw StoreError(code: .corrupt, message: "chunk says \(count) samples in \(times.remaining) bytes")
        }
        var values = times
        try values.skipVarints(count)
        var previous: Int64 = 0
        var gap: Int64 = 0
        if flags & decimalFlag != 0 {
            let scale = Int(try values.byte())
            guard scale <= maxScale else { throw StoreError(code: .corrupt, message: "chunk scale \(scale)") }
            let power = powers[scale]
            var mantissa: Int64 = 0
            for i in 0..<count {
                let d = try times.signedVarint()
                if i < 2 { gap = i == 0 ? 0 : d } else { gap &+= d }
                previous = i == 0 ? d : previous &+ gap
                mantissa &+= try values.signedVarint()
                body(previous, Double(mantissa) / power)
            }
        } else {
            var bits: UInt64 = 0
            for i in 0..<count {
                let d = try times.signedVarint()
                if i < 2 { gap = i == 0 ? 0 : d } else { gap &+= d }
                previous = i == 0 ? d : previous &+ gap
                let zeros = try values.byte()
                guard zeros < 64 else { throw StoreError(code: .corrupt, message: "chunk value shift \(zeros)") }
                bits ^= try values.varint() << UInt64(zeros)
                body(previous, Double(bitPattern: bits))
            }
        }
    }

    public static func decode(_ bytes: [UInt8]) throws -> (timestamps: [Int64], values: [Double]) {
        var outer = BinaryReader(bytes)
        let flags = try outer.readByte()
        let body: [UInt8]
        if flags & zlibFlag != 0 {
            let size = try outer.readVarint()
            guard size <= 64 * 1_048_576 else {
                throw StoreError(code: .corrupt, message: "chunk body of \(size) bytes")
            }
            body = try Zlib.decompress(Array(try outer.readBytes(bytes.count - outer.offset)), originalSize: Int(size))
        } else {
            body = Array(try outer.readBytes(bytes.count - outer.offset))
        }
        var r = BinaryReader(body)
        guard let count = Int(exactly: try r.readVarint()) else {
            throw StoreError(code: .corrupt, message: "chunk sample count out of range")
        }
        guard count <= body.count else {
            throw StoreError(code: .corrupt, message: "chunk says \(count) samples in \(body.count) bytes")
        }
        let timestamps = try readTimestamps(count, from: &r)
        var values: [Double] = []
        values.reserveCapacity(count)
        if flags & decimalFlag != 0 {
            let scale = Int(try r.readByte())
            guard scale <= maxScale else { throw StoreError(code: .corrupt, message: "chunk scale \(scale)") }
            var mantissa: Int64 = 0
            for _ in 0..<count {
                mantissa &+= try r.readSignedVarint()
                values.append(Double(mantissa) / powers[scale])
            }
        } else {
            var previous: UInt64 = 0
            for _ in 0..<count {
                let zeros = try r.readByte()
                guard zeros < 64 else { throw StoreError(code: .corrupt, message: "chunk value shift \(zeros)") }
                previous ^= try r.readVarint() << UInt64(zeros)
                values.append(Double(bitPattern: previous))
            }
        }
        return (timestamps, values)
    }

    static func writeTimestamps(_ timestamps: [Int64], into w: inout BinaryWriter) {
        var previous: Int64 = 0
        var previousGap: Int64 = 0
        for (i, t) in timestamps.enumerated() {
            switch i {
            case 0: w.writeSignedVarint(t)
            case 1:
                previousGap = t &- previous
                w.writeSignedVarint(previousGap)
            default:
                let gap = t &- previous
                w.writeSignedVarint(gap &- previousGap)
                previousGap = gap
            }
            previous = t
        }
    }

    static func readTimestamps(_ count: Int, from r: inout BinaryReader) throws -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(count)
        var previous: Int64 = 0
        var gap: Int64 = 0
        for i in 0..<count {
            switch i {
            case 0: previous = try r.readSignedVarint()
            case 1:
                gap = try r.readSignedVarint()
                previous &+= gap
            default:
                gap &+= try r.readSignedVarint()
                previous &+= gap
            }
            out.append(previous)
        }
        return out
    }

    /// The smallest scale at which every value is an integer below 2^53 that divides back to exactly the value;
    /// nil when there is none (then the values go as XORed bits). -0 has no decimal form here (its sign would be lost).
    static func decimalScale(_ values: [Double]) -> Int? {
        var scale = 0
        for value in values {
            guard value.isFinite, !(value == 0 && value.sign == .minus) else { return nil }
            while true {
                let scaled = value * powers[scale]
                if abs(scaled) < 9_007_199_254_740_992, scaled.rounded() / powers[scale] == value { break }
                scale += 1
                if scale > maxScale { return nil }
            }
        }
        // A value checked at a smaller scale must still divide back exactly at the final one.
        let power = powers[scale]
        for value in values where (value * power).rounded() / power != value { return nil }
        return scale
    }
}

/// Reads bytes, varints and zig-zag varints from memory it does not own, checking every bound.
struct ByteCursor {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset...]) }

    @inline(__always)
    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw StoreError(code: .corrupt, message: "truncated chunk") }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    mutating func varint() throws -> UInt64 {
        // One byte is the common case: a small delta.
        if offset < bytes.count, bytes[offset] < 0x80 {
            defer { offset += 1 }
            return UInt64(bytes[offset])
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw StoreError(code: .corrupt, message: "varint overflow") }
        }
    }

    /// Moves past `count` varints.
    mutating func skipVarints(_ count: Int) throws {
        var left = count
        while left > 0 {
            guard offset < bytes.count else { throw StoreError(code: .corrupt, message: "truncated chunk") }
            if bytes[offset] < 0x80 { left -= 1 }
            offset += 1
        }
    }

    @inline(__always)
    mutating func signedVarint() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
