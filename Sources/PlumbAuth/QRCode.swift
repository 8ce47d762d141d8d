/// A QR code (ISO/IEC 18004, model 2) of bytes, for showing an `otpauth://` URI in a terminal so an authenticator
/// app can scan it. Byte mode only, versions 1–13 (up to 425 bytes at level L, 331 at M), every error-correction
/// level; the mask is the one of the eight with the lowest penalty score (the standard's four rules) unless one is
/// asked for. Written from the standard's description; the test suite compares its modules with the Python `qrcode`
/// package's for the same version, level and mask.
public struct QRCode: Sendable, Equatable {
    public enum Correction: Int, Sendable, CaseIterable {
        case low, medium, quartile, high

        /// The two bits the format information carries for this level.
        var formatBits: Int { [1, 0, 3, 2][rawValue] }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooLong(bytes: Int, maximum: Int)
        case badVersion(Int)
        case badMask(Int)

        public var description: String {
            switch self {
            case .tooLong(let bytes, let maximum):
                "\(bytes) bytes do not fit in a QR code of version 13 at this level (at most \(maximum))"
            case .badVersion(let v): "QR version \(v): versions 1–13 are supported"
            case .badMask(let m): "QR mask \(m): masks are 0–7"
            }
        }
    }

    public let version: Int
    public let correction: Correction
    public let mask: Int
    /// Modules by row, then column; true is dark.
    public let modules: [[Bool]]
    public var size: Int { modules.count }

    /// Encodes `data` in the smallest version that holds it at `correction`; `version` and `mask` force those.
    public init(_ data: [UInt8], correction: Correction = .medium, version: Int? = nil, mask: Int? = nil) throws {
        if let version, !(1...13).contains(version) { throw Failure.badVersion(version) }
        if let mask, !(0...7).contains(mask) { throw Failure.badMask(mask) }
        let chosen: Int
        if let version {
            guard Self.fits(data.count, version: version, correction: correction) else {
                throw Failure.tooLong(
                    bytes: data.count, maximum: Self.byteCapacity(version: version, correction: correction))
            }
            chosen = version
        } else {
            guard let v = (1...13).first(where: { Self.fits(data.count, version: $0, correction: correction) }) else {
                throw Failure.tooLong(
                    bytes: data.count, maximum: Self.byteCapacity(version: 13, correction: correction))
            }
            chosen = v
        }
        let codewords = Self.codewords(data, version: chosen, correction: correction)
        var grid = Grid(version: chosen)
        grid.drawFunctionPatterns()
        grid.place(codewords)
        let masks = mask.map { [$0] } ?? Array(0...7)
        var best: (mask: Int, penalty: Int, modules: [[Bool]])?
        for m in masks {
            var candidate = grid
            candidate.apply(mask: m)
            candidate.drawFormat(correction: correction, mask: m)
            let penalty = masks.count == 1 ? 0 : candidate.penalty()
            if best == nil || penalty < best!.penalty { best = (m, penalty, candidate.modules) }
        }
        self.version = chosen
        self.correction = correction
        self.mask = best!.mask
        self.modules = best!.modules
    }

    public init(_ text: String, correction: Correction = .medium) throws {
        try self.init(Array(text.utf8), correction: correction)
    }

    // MARK: - Capacity

    /// Error-correction codewords per block, then (blocks, data codewords) of the first and second groups, by
    /// version (index 0 = version 1) and level (L, M, Q, H).
    static let blocks: [[(ec: Int, g1: (Int, Int), g2: (Int, Int))]] = [
        [(7, (1, 19), (0, 0)), (10, (1, 16), (0, 0)), (13, (1, 13), (0, 0)), (17, (1, 9), (0, 0))],
        [(10, (1, 34), (0, 0)), (16, (1, 28), (0, 0)), (22, (1, 22), (0, 0)), (28, (1, 16), (0, 0))],
        [(15, (1, 55), (0, 0)), (26, (1, 44), (0, 0)), (18, (2, 17), (0, 0)), (22, (2, 13), (0, 0))],
        [(20, (1, 80), (0, 0)), (18, (2, 32), (0, 0)), (26, (2, 24), (0, 0)), (16, (4, 9), (0, 0))],
        [(26, (1, 108), (0, 0)), (24, (2, 43), (0, 0)), (18, (2, 15), (2, 16)), (22, (2, 11), (2, 12))],
        [(18, (2, 68), (0, 0)), (16, (4, 27), (0, 0)), (24, (4, 19), (0, 0)), (28, (4, 15), (0, 0))],
        [(20, (2, 78), (0, 0)), (18, (4, 31), (0, 0)), (18, (2, 14), (4, 15)), (26, (4, 13), (1, 14))],
        [(24, (2, 97), (0, 0)), (22, (2, 38), (2, 39)), (22, (4, 18), (2, 19)), (26, (4, 14), (2, 15))],
        [(30, (2, 116), (0, 0)), (22, (3, 36), (2, 37)), (20, (4, 16), (4, 17)), (24, (4, 12), (4, 13))],
        [(18, (2, 68), (2, 69)), (26, (4, 43), (1, 44)), (24, (6, 19), (2, 20)), (28, (6, 15), (2, 16))],
        [(20, (4, 81), (0, 0)), (30, (1, 50), (4, 51)), (28, (4, 22), (4, 23)), (24, (3, 12), (8, 13))],
        [(24, (2, 92), (2, 93)), (22, (6, 36), (2, 37)), (26, (4, 20), (6, 21)), (28, (7, 14), (4, 15))],
        [(26, (4, 107), (0, 0)), (22, (8, 37), (1, 38)), (24, (8, 20), (4, 21)), (22, (12, 11), (4, 12))],
    ]

    static func dataCodewords(version: Int, correction: Correction) -> Int {
        let b = blocks[version - 1][correction.rawValue]
        return b.g1.0 * b.g1.1 + b.g2.0 * b.g2.1
    }

    /// Bits of the byte count: 8 up to version 9, 16 from version 10.
    static func countBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    /// How many bytes a version holds at a level.
    public static func byteCapacity(version: Int, correction: Correction) -> Int {
        (dataCodewords(version: version, correction: correction) * 8 - 4 - countBits(version: version)) / 8
    }

    static func fits(_ count: Int, version: Int, correction: Correction) -> Bool {
        count <= byteCapacity(version: version, correction: correction)
    }

    // MARK: - Codewords

    /// The data codewords (mode, count, bytes, terminator, padding), split into blocks, each with its Reed–Solomon
    /// codewords, interleaved.
    static func codewords(_ data: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        var bits = BitBuffer()
        bits.append(0b0100, 4)
        bits.append(data.count, countBits(version: version))
        for byte in data { bits.append(Int(byte), 8) }
        let capacity = dataCodewords(version: version, correction: correction) * 8
        bits.append(0, min(4, capacity - bits.count))
        bits.append(0, (8 - bits.count % 8) % 8)
        var bytes = bits.bytes
        var pad: UInt8 = 0xEC
        while bytes.count < capacity / 8 {
            bytes.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        let layout = blocks[version - 1][correction.rawValue]
        var dataBlocks: [[UInt8]] = []
        var offset = 0
        for (count, length) in [layout.g1, layout.g2] {
            for _ in 0..<count {
                dataBlocks.append(Array(bytes[offset..<offset + length]))
                offset += length
            }
        }
        let generator = ReedSolomon.generator(degree: layout.ec)
        let ecBlocks = dataBlocks.map { ReedSolomon.remainder($0, generator: generator) }
        var out: [UInt8] = []
        for i in 0..<(dataBlocks.map(\.count).max() ?? 0) {
            for block in dataBlocks where i < block.count { out.append(block[i]) }
        }
        for i in 0..<layout.ec {
            for block in ecBlocks { out.append(block[i]) }
        }
        return out
    }

    struct BitBuffer {
        var bits: [Bool] = []
        var count: Int { bits.count }

        mutating func append(_ value: Int, _ length: Int) {
            guard length > 0 else { return }
            for i in stride(from: length - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }

        var bytes: [UInt8] {
            stride(from: 0, to: bits.count, by: 8).map { start in
                (0..<8).reduce(UInt8(0)) { byte, i in byte << 1 | (start + i < bits.count && bits[start + i] ? 1 : 0) }
            }
        }
    }

    /// Reed–Solomon over GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1 and generator roots α⁰ … αⁿ⁻¹.
    enum ReedSolomon {
        static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
            var result: UInt8 = 0
            var a = a
            var b = b
            while b != 0 {
                if b & 1 != 0 { result ^= a }
                let carry = a & 0x80 != 0
                a <<= 1
                if carry { a ^= 0x1D }
                b >>= 1
            }
            return result
        }

        /// The generator's coefficients, highest degree first, without the leading 1.
        static func generator(degree: Int) -> [UInt8] {
            var poly = [UInt8](repeating: 0, count: degree)
            poly[degree - 1] = 1
            var root: UInt8 = 1
            for _ in 0..<degree {
                for j in 0..<degree {
                    poly[j] = multiply(poly[j], root)
                    if j + 1 < degree { poly[j] ^= poly[j + 1] }
                }
                root = multiply(root, 2)
            }
            return poly
        }

        static func remainder(_ data: [UInt8], generator: [UInt8]) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: generator.count)
            for byte in data {
                let factor = byte ^ result[0]
                result.removeFirst()
                result.append(0)
                for i in 0..<result.count { result[i] ^= multiply(generator[i], factor) }
            }
            return result
        }
    }

    // MARK: - Terminal

    /// The code as text for a terminal: two module rows per line with half blocks, inside a four-module quiet zone.
    /// With `colours`, dark modules are black on a white background whatever the terminal's theme; without, the
    /// blocks are drawn for light modules (`lightOnDark`, right for the usual dark terminal) or for dark ones.
    /// Without `unicode` (a locale that cannot show UTF-8), one module row per line, a drawn module as `##`.
    public func terminalText(colours: Bool, lightOnDark: Bool = true, unicode: Bool = true) -> String {
        let quiet = 4
        let span = size + 2 * quiet
        func dark(_ row: Int, _ column: Int) -> Bool {
            let r = row - quiet
            let c = column - quiet
            guard (0..<size).contains(r), (0..<size).contains(c) else { return false }
            return modules[r][c]
        }
        // Which modules get a (foreground) block: dark ones on the forced white background, else by theme.
        let drawDark = colours || !lightOnDark
        func drawn(_ row: Int, _ column: Int) -> Bool { (row < span && dark(row, column)) == drawDark }
        var lines: [String] = []
        if !unicode {
            // Two characters per module keep it about square in a terminal cell grid.
            for row in 0..<span {
                let cells = (0..<span).map { drawn(row, $0) ? "##" : "  " }.joined()
                lines.append(colours ? "\u{1B}[30;107m" + cells + "\u{1B}[0m" : cells)
            }
            return lines.joined(separator: "\n") + "\n"
        }
        for row in stride(from: 0, to: span, by: 2) {
            var line = colours ? "\u{1B}[30;107m" : ""
            for column in 0..<span {
                switch (drawn(row, column), drawn(row + 1, column)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            if colours { line += "\u{1B}[0m" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
