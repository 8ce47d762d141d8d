/// The QR symbol's module grid: function patterns (finders, separators, timing, alignment, format and version
/// information), the data placement, the masks and the standard's penalty score.
extension QRCode {

    struct Grid {
        let version: Int
        let size: Int
        var modules: [[Bool]]
        var isFunction: [[Bool]]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            modules = Array(repeating: Array(repeating: false, count: size), count: size)
            isFunction = modules
        }

        mutating func set(row: Int, column: Int, _ dark: Bool) {
            modules[row][column] = dark
            isFunction[row][column] = true
        }

        static let alignment: [[Int]] = [
            [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
            [6, 30, 54], [6, 32, 58], [6, 34, 62],
        ]

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(row: 6, column: i, i % 2 == 0)
                set(row: i, column: 6, i % 2 == 0)
            }
            for (row, column) in [(3, 3), (3, size - 4), (size - 4, 3)] {
                // The finder (7×7) with its light separator around it.
                for dy in -4...4 {
                    for dx in -4...4 {
                        let r = row + dy
                        let c = column + dx
                        guard (0..<size).contains(r), (0..<size).contains(c) else { continue }
                        let distance = max(abs(dx), abs(dy))
                        set(row: r, column: c, distance != 2 && distance != 4)
                    }
                }
            }
            let positions = Self.alignment[version - 1]
            for r in positions {
                for c in positions {
                    // Not over a finder.
                    if (r == 6 && c == 6) || (r == 6 && c == positions.last!) || (r == positions.last! && c == 6) {
                        continue
                    }
                    for dy in -2...2 {
                        for dx in -2...2 { set(row: r + dy, column: c + dx, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            // Reserve the format areas (drawn per mask later) and the dark module.
            drawFormat(correction: .medium, mask: 0)
            if version >= 7 { drawVersion() }
        }

        /// The 15 format bits (level and mask, BCH-protected, XORed with 101010000010010) in both copies.
        mutating func drawFormat(correction: Correction, mask: Int) {
            let data = correction.formatBits << 3 | mask
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(row: i, column: 8, bit(i)) }
            set(row: 7, column: 8, bit(6))
            set(row: 8, column: 8, bit(7))
            set(row: 8, column: 7, bit(8))
            for i in 9..<15 { set(row: 8, column: 14 - i, bit(i)) }
            for i in 0..<8 { set(row: 8, column: size - 1 - i, bit(i)) }
            for i in 8..<15 { set(row: size - 15 + i, column: 8, bit(i)) }
            set(row: size - 8, column: 8, true)
        }

        /// The 18 version bits (versions 7 and up), BCH-protected, in both 6×3 blocks.
        mutating func drawVersion() {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let dark = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3
                let b = i / 3
                set(row: b, column: a, dark)
                set(row: a, column: b, dark)
            }
        }

        /// The codewords' bits in the zigzag order: two columns at a time from the right, up then down, skipping
        /// the vertical timing column.
        mutating func place(_ codewords: [UInt8]) {
            var i = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                let upward = ((right + 1) & 2) == 0
                for step in 0..<size {
                    let row = upward ? size - 1 - step : step
                    for j in 0..<2 {
                        let column = right - j
                        guard !isFunction[row][column] else { continue }
                        if i < codewords.count * 8 {
                            modules[row][column] = (codewords[i >> 3] >> (7 - UInt8(i & 7))) & 1 == 1
                            i += 1
                        }
                    }
                }
                right -= 2
            }
        }

        static func masked(_ mask: Int, row y: Int, column x: Int) -> Bool {
            switch mask {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (x / 3 + y / 2) % 2 == 0
            case 5: x * y % 2 + x * y % 3 == 0
            case 6: (x * y % 2 + x * y % 3) % 2 == 0
            default: ((x + y) % 2 + x * y % 3) % 2 == 0
            }
        }

        mutating func apply(mask: Int) {
            for row in 0..<size {
                for column in 0..<size where !isFunction[row][column] && Self.masked(mask, row: row, column: column) {
                    modules[row][column].toggle()
                }
            }
        }

        /// The standard's penalty: runs of five or more (3 + the excess), 2×2 blocks (3 each), finder-like
        /// 1:1:3:1:1 patterns with four light modules on one side (40 each), and the distance of the dark share
        /// from 50 % (10 per 5 %).
        func penalty() -> Int {
            var score = 0
            let lines = modules + (0..<size).map { c in modules.map { $0[c] } }
            let finderA: [Bool] = [true, false, true, true, true, false, true, false, false, false, false]
            let finderB: [Bool] = [false, false, false, false, true, false, true, true, true, false, true]
            for line in lines {
                var run = 1
                for i in 1..<size {
                    if line[i] == line[i - 1] {
                        run += 1
                    } else {
                        if run >= 5 { score += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { score += run - 2 }
                if size >= 11 {
                    for start in 0...(size - 11) {
                        let window = Array(line[start..<start + 11])
                        if window == finderA || window == finderB { score += 40 }
                    }
                }
            }
            for r in 0..<(size - 1) {
                for c in 0..<(size - 1) {
                    let m = modules[r][c]
                    if modules[r][c + 1] == m && modules[r + 1][c] == m && modules[r + 1][c + 1] == m { score += 3 }
                }
            }
            let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
            let total = size * size
            score += abs(dark * 100 / total - 50) / 5 * 10
            return score
        }
    }
}
