import Foundation

/// An RGB canvas that draws chart marks with anti-aliased edges: coverage from each pixel centre's distance to the
/// shape, blended over what is there. Coordinates are CSS pixels; `scale` device pixels make one (2 for sharp
/// pictures on high-density screens).
struct Raster {
    let width: Int
    let height: Int
    let scale: Double
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, scale: Double, background: ChartMark.Color) {
        self.width = width
        self.height = height
        self.scale = scale
        var buffer = [UInt8](repeating: 0, count: width * height * 3)
        buffer.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                p[i] = background.red
                p[i + 1] = background.green
                p[i + 2] = background.blue
                i += 3
            }
        }
        pixels = buffer
    }

    /// Device-pixel bounds of [low, high] on an axis of `size` pixels, clipped; nil when outside or not finite.
    static func clip(_ low: Double, _ high: Double, _ size: Int) -> Range<Int>? {
        guard low.isFinite, high.isFinite else { return nil }
        let a = max(0, min(Double(size), low.rounded(.down)))
        let b = max(0, min(Double(size), high.rounded(.up)))
        guard a < b else { return nil }
        return Int(a)..<Int(b)
    }

    /// Mixes `color` into the pixel at (x, y) by `alpha` (0…1).
    mutating func blend(_ x: Int, _ y: Int, _ color: ChartMark.Color, _ alpha: Double) {
        guard alpha > 0 else { return }
        let a = Int((min(alpha, 1) * 256).rounded())
        let i = (y * width + x) * 3
        pixels.withUnsafeMutableBufferPointer { p in
            p[i] = Self.mix(p[i], color.red, a)
            p[i + 1] = Self.mix(p[i + 1], color.green, a)
            p[i + 2] = Self.mix(p[i + 2], color.blue, a)
        }
    }

    /// `old` moved towards `new` by `a`/256, in integers.
    @inline(__always)
    static func mix(_ old: UInt8, _ new: UInt8, _ a: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (Int(old) * (256 - a) + Int(new) * a + 128) >> 8)
    }

    mutating func fill(x: Double, y: Double, width w: Double, height h: Double, color: ChartMark.Color) {
        guard let xs = Self.clip((x * scale).rounded(), ((x + w) * scale).rounded(), width),
            let ys = Self.clip((y * scale).rounded(), ((y + h) * scale).rounded(), height)
        else { return }
        let rowWidth = width
        pixels.withUnsafeMutableBufferPointer { p in
            for py in ys {
                var i = (py * rowWidth + xs.lowerBound) * 3
                for _ in xs {
                    p[i] = color.red
                    p[i + 1] = color.green
                    p[i + 2] = color.blue
                    i += 3
                }
            }
        }
    }

    /// A polyline `lineWidth` wide with round joins; each pixel takes the largest coverage of any segment, so the
    /// joins are not drawn twice.
    mutating func stroke(_ points: [(x: Double, y: Double)], lineWidth: Double, color: ChartMark.Color) {
        let p = points.filter { $0.x.isFinite && $0.y.isFinite }.map { (x: $0.x * scale, y: $0.y * scale) }
        guard let first = p.first else { return }
        let half = lineWidth * scale / 2
        let xs = p.map(\.x)
        let ys = p.map(\.y)
        guard let cols = Self.clip(xs.min()! - half - 1, xs.max()! + half + 1, width),
            let rows = Self.clip(ys.min()! - half - 1, ys.max()! + half + 1, height)
        else { return }
        var coverage = [Double](repeating: 0, count: cols.count * rows.count)
        let segments = p.count == 1 ? [(first, first)] : Array(zip(p, p.dropFirst()))
        for (a, b) in segments {
            guard let sc = Self.clip(min(a.x, b.x) - half - 1, max(a.x, b.x) + half + 1, width),
                let sr = Self.clip(min(a.y, b.y) - half - 1, max(a.y, b.y) + half + 1, height)
            else { continue }
            let dx = b.x - a.x
            let dy = b.y - a.y
            let length2 = dx * dx + dy * dy
            for py in sr {
                for px in sc {
                    let cx = Double(px) + 0.5
                    let cy = Double(py) + 0.5
                    let t = length2 > 0 ? max(0, min(1, ((cx - a.x) * dx + (cy - a.y) * dy) / length2)) : 0
                    let ex = cx - (a.x + t * dx)
                    let ey = cy - (a.y + t * dy)
                    let c = max(0, min(1, half + 0.5 - (ex * ex + ey * ey).squareRoot()))
                    let i = (py - rows.lowerBound) * cols.count + (px - cols.lowerBound)
                    if c > coverage[i] { coverage[i] = c }
                }
            }
        }
        for py in rows {
            for px in cols {
                blend(px, py, color, coverage[(py - rows.lowerBound) * cols.count + (px - cols.lowerBound)])
            }
        }
    }

    /// A dashed polyline: on for `dash`, off for 0.7 × `dash`, along its length.
    mutating func dashed(_ points: [(x: Double, y: Double)], lineWidth: Double, dash: Double, color: ChartMark.Color) {
        guard dash > 0.5 else { return stroke(points, lineWidth: lineWidth, color: color) }
        let gap = dash * 0.7
        for (a, b) in zip(points, points.dropFirst()) {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            guard length.isFinite, length > 0 else { continue }
            var at = 0.0
            // At most a few thousand dashes on a chart-sized line.
            while at < length, at / (dash + gap) < 10_000 {
                let end = min(length, at + dash)
                let p = (x: a.x + (b.x - a.x) * at / length, y: a.y + (b.y - a.y) * at / length)
                let q = (x: a.x + (b.x - a.x) * end / length, y: a.y + (b.y - a.y) * end / length)
                stroke([p, q], lineWidth: lineWidth, color: color)
                at += dash + gap
            }
        }
    }

    mutating func disc(x: Double, y: Double, radius: Double, color: ChartMark.Color) {
        let cx = x * scale
        let cy = y * scale
        let r = radius * scale
        guard let cols = Self.clip(cx - r - 1, cx + r + 1, width), let rows = Self.clip(cy - r - 1, cy + r + 1, height)
        else { return }
        for py in rows {
            for px in cols {
                let dx = Double(px) + 0.5 - cx
                let dy = Double(py) + 0.5 - cy
                blend(px, py, color, max(0, min(1, r + 0.5 - (dx * dx + dy * dy).squareRoot())))
            }
        }
    }

    /// Text in the 5 × 7 font, each font pixel `dot` CSS pixels, the baseline at `y`.
    mutating func text(
        _ text: String, x: Double, y: Double, anchor: ChartMark.Anchor, dot: Double, color: ChartMark.Color
    ) {
        let characters = Array(text.prefix(40))
        let advance = Double(BitmapFont.advance) * dot
        let textWidth = Double(characters.count) * advance - dot
        let left: Double =
            switch anchor {
            case .start: x
            case .middle: x - textWidth / 2
            case .end: x - textWidth
            }
        let top = y - Double(BitmapFont.height) * dot
        for (k, character) in characters.enumerated() {
            for (row, bits) in BitmapFont.rows(character).enumerated() {
                for (column, bit) in bits.enumerated() where bit == "#" {
                    fill(
                        x: left + Double(k) * advance + Double(column) * dot, y: top + Double(row) * dot, width: dot,
                        height: dot, color: color)
                }
            }
        }
    }
}
