/// Snappy's block format (the raw format, not the framing one), which Prometheus remote write compresses its body
/// with: the uncompressed length as a varint, then literals and back-references.
///
/// Decoding checks every length and offset against the input and the declared size, and refuses a declared size
/// over `limit` before allocating: a hostile body cannot make it read out of bounds or allocate more than the limit.
public enum Snappy {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The length the block says it decompresses to.
    public static func decompressedLength(_ input: [UInt8]) throws -> Int {
        var i = 0
        return try varint(input, &i)
    }

    static func varint(_ input: [UInt8], _ i: inout Int) throws -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < input.count else { throw Invalid("snappy: truncated length") }
            let byte = input[i]
            i += 1
            guard shift < 35 else { throw Invalid("snappy: length does not fit 32 bits") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard value <= UInt64(UInt32.max) else { throw Invalid("snappy: length does not fit 32 bits") }
        return Int(value)
    }

    /// The decompressed bytes; `Invalid` naming the problem for a body that is not a whole, well-formed block, or
    /// that says it decompresses to more than `limit` bytes. The output is sized once, from the declared length, and
    /// written in place.
    public static func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        var i = 0
        let length = try varint(input, &i)
        guard length <= limit else {
            throw Invalid("snappy: the body decompresses to \(length) bytes, over the limit of \(limit)")
        }
        var output = [UInt8](repeating: 0, count: length)
        var o = 0
        try output.withUnsafeMutableBufferPointer { out in
            while i < input.count {
                let tag = input[i]
                i += 1
                var offset = 0
                var count = 0
                switch tag & 0x03 {
                case 0:
                    // A literal: its length − 1 in the tag's upper six bits, or in the 1–4 bytes that follow.
                    count = Int(tag >> 2)
                    if count >= 60 {
                        let bytes = count - 59
                        guard i + bytes <= input.count else { throw Invalid("snappy: truncated literal length") }
                        count = 0
                        for k in 0..<bytes { count |= Int(input[i + k]) << (8 * k) }
                        i += bytes
                    }
                    count += 1
                    guard count <= input.count - i else {
                        throw Invalid("snappy: literal runs past the end of the body")
                    }
                    guard count <= length - o else { throw Invalid("snappy: more bytes than the declared \(length)") }
                    input.withUnsafeBufferPointer { source in
                        (out.baseAddress! + o).update(from: source.baseAddress! + i, count: count)
                    }
                    i += count
                    o += count
                    continue
                case 1:
                    guard i < input.count else { throw Invalid("snappy: truncated copy") }
                    count = Int((tag >> 2) & 0x07) + 4
                    offset = Int(tag >> 5) << 8 | Int(input[i])
                    i += 1
                case 2:
                    guard i + 2 <= input.count else { throw Invalid("snappy: truncated copy") }
                    offset = Int(input[i]) | Int(input[i + 1]) << 8
                    count = Int(tag >> 2) + 1
                    i += 2
                default:
                    guard i + 4 <= input.count else { throw Invalid("snappy: truncated copy") }
                    offset =
                        Int(input[i]) | Int(input[i + 1]) << 8 | Int(input[i + 2]) << 16 | Int(input[i + 3]) << 24
                    count = Int(tag >> 2) + 1
                    i += 4
                }
                // A back-reference: `count` bytes from `offset` back, which may overlap what it writes (a run).
                guard offset > 0, offset <= o else {
                    throw Invalid("snappy: a copy reaches back \(offset) bytes, before the start")
                }
                guard count <= length - o else { throw Invalid("snappy: more bytes than the declared \(length)") }
                if offset >= count {
                    (out.baseAddress! + o).update(from: out.baseAddress! + (o - offset), count: count)
                } else {
                    for k in 0..<count { out[o + k] = out[o - offset + k] }
                }
                o += count
            }
        }
        guard o == length else {
            throw Invalid("snappy: the body decompresses to \(o) bytes, not the declared \(length)")
        }
        return output
    }

    /// `input` compressed: literals and back-references found through a hash of every 4 bytes (greedy, one
    /// candidate per hash), as snappy's reference encoder does in spirit. For tests and benchmarks that must send
    /// what Prometheus sends.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 2 + 16)
        var n = UInt32(input.count)
        while n >= 0x80 {
            out.append(UInt8(n & 0x7F) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
        var table = [Int](repeating: -1, count: 1 << 14)
        var literalStart = 0
        var i = 0
        func hash(_ at: Int) -> Int {
            let v =
                UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16
                | UInt32(input[at + 3]) << 24
            return Int((v &* 0x1E35_A7BD) >> 18)
        }
        func emitLiteral(_ from: Int, _ to: Int) {
            var start = from
            while start < to {
                let count = min(to - start, 65_536)
                let m = count - 1
                if m < 60 {
                    out.append(UInt8(m << 2))
                } else if m < 256 {
                    out.append(60 << 2)
                    out.append(UInt8(m))
                } else {
                    out.append(61 << 2)
                    out.append(UInt8(m & 0xFF))
                    out.append(UInt8(m >> 8))
                }
                out.append(contentsOf: input[start..<(start + count)])
                start += count
            }
        }
        while i + 4 <= input.count {
            let h = hash(i)
            let candidate = table[h]
            table[h] = i
            if candidate >= 0, i - candidate <= 65_535,
                input[candidate] == input[i], input[candidate + 1] == input[i + 1],
                input[candidate + 2] == input[i + 2], input[candidate + 3] == input[i + 3]
            {
                emitLiteral(literalStart, i)
                var length = 4
                while i + length < input.count, length < 64, input[candidate + length] == input[i + length] {
                    length += 1
                }
                let offset = i - candidate
                out.append(UInt8((length - 1) << 2) | 0x02)
                out.append(UInt8(offset & 0xFF))
                out.append(UInt8(offset >> 8))
                i += length
                literalStart = i
            } else {
                i += 1
            }
        }
        emitLiteral(literalStart, input.count)
        return out
    }
}
