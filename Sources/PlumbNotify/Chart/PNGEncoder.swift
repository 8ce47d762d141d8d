import PlumbStore

/// Writes 8-bit RGB pixels as a PNG (ISO/IEC 15948): signature, IHDR, one zlib IDAT, IEND. Each row is stored with
/// the Sub filter, which suits charts (long runs of one colour); libz does the deflate and the CRC-32.
enum PNGEncoder {
    static func encode(width: Int, height: Int, rgb: [UInt8]) throws -> [UInt8] {
        precondition(rgb.count == width * height * 3, "the pixel buffer does not match the size")
        let stride = width * 3
        var filtered = [UInt8](repeating: 0, count: (stride + 1) * height)
        filtered.withUnsafeMutableBufferPointer { out in
            rgb.withUnsafeBufferPointer { source in
                for row in 0..<height {
                    let from = row * stride
                    let to = row * (stride + 1)
                    out[to] = 1  // Sub: each byte minus the same channel of the pixel to its left
                    for i in 0..<stride {
                        out[to + 1 + i] = source[from + i] &- (i >= 3 ? source[from + i - 3] : 0)
                    }
                }
            }
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits, truecolour, deflate, adaptive filtering, no interlace
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", header)
        png += chunk("IDAT", try Zlib.compress(filtered, level: 6))
        png += chunk("IEND", [])
        return png
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(Zlib.crc32(typeBytes + data))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
