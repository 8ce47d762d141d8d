import CZlib

/// zlib (libz) compression of whole buffers, for archived segments.
public enum Zlib {
    /// `compress2` at `level` (1 fastest … 9 smallest).
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &length, source.baseAddress, uLong(input.count), level)
            }
        }
        guard status == Z_OK else { throw StoreError(code: .corrupt, message: "zlib compress failed (\(status))") }
        output.removeSubrange(Int(length)...)
        return output
    }

    /// The CRC-32 of ISO 3309 (PNG chunks, gzip): libz's `crc32`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        let value = bytes.withUnsafeBufferPointer { CZlib.crc32(0, $0.baseAddress, uInt($0.count)) }
        return UInt32(truncatingIfNeeded: value)
    }

    /// Inflates `input` into the first `originalSize` bytes of `output`, which only ever grows (a buffer reused from
    /// call to call is not cleared each time), checking the size.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, into output: inout [UInt8], originalSize: Int
    ) throws {
        guard (0...Int(Int32.max)).contains(originalSize) else {
            throw StoreError(code: .corrupt, message: "zlib: implausible original size \(originalSize)")
        }
        // At least one byte, so the buffer always has an address.
        let room = max(originalSize, 1)
        if output.count < room { output.append(contentsOf: repeatElement(0, count: room - output.count)) }
        var length = uLong(originalSize)
        let status = output.withUnsafeMutableBufferPointer { out in
            uncompress(
                out.baseAddress, &length, input.baseAddress?.assumingMemoryBound(to: UInt8.self), uLong(input.count))
        }
        guard status == Z_OK, Int(length) == originalSize else {
            throw StoreError(code: .corrupt, message: "zlib uncompress failed (\(status))")
        }
    }

    /// `uncompress` into a buffer of exactly `originalSize` bytes.
    public static func decompress(_ input: [UInt8], originalSize: Int) throws -> [UInt8] {
        var output: [UInt8] = []
        try input.withUnsafeBytes { try decompress($0, into: &output, originalSize: originalSize) }
        return Array(output.prefix(originalSize))
    }
}

extension BinaryWriter {
    /// A length-prefixed UTF-8 string.
    public mutating func writeString(_ text: String) {
        let bytes = Array(text.utf8)
        writeVarint(UInt64(bytes.count))
        writeBytes(bytes)
    }
}

extension BinaryReader {
    public mutating func readString() throws -> String {
        guard let count = Int(exactly: try readVarint()) else {
            throw StoreError(code: .corrupt, message: "a string length out of range")
        }
        return String(decoding: try readBytes(count), as: UTF8.self)
    }
}

extension Zlib {
    /// Why a compressed request body could not be inflated.
    public struct InflateError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Inflates a gzip (or zlib) stream, refusing one that would grow past `limit` bytes (a small body that
    /// inflates to gigabytes is refused as soon as it passes the limit, never held whole).
    public static func gunzip(_ input: [UInt8], limit: Int) throws(InflateError) -> [UInt8] {
        // 15 + 32: the largest window, with the gzip or zlib header detected.
        try inflate(input[...], windowBits: 15 + 32, limit: limit)
    }

    /// Inflates raw deflate data (no header: a zip entry's), refusing more than `limit` bytes.
    public static func inflateRaw(_ input: ArraySlice<UInt8>, limit: Int) throws(InflateError) -> [UInt8] {
        try inflate(input, windowBits: -15, limit: limit)
    }

    private static func inflate(
        _ input: ArraySlice<UInt8>, windowBits: Int32, limit: Int
    ) throws(InflateError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InflateError(description: "cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1_024)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (source) throws(InflateError) in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw InflateError(description: status == Z_BUF_ERROR ? "the stream ends early" : reason)
                }
                let produced = chunk.count - Int(stream.avail_out)
                guard output.count + produced <= limit else {
                    throw InflateError(description: "it inflates to more than \(limit) bytes")
                }
                output.append(contentsOf: chunk[..<produced])
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw InflateError(description: "the stream ends early")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
