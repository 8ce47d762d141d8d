import Foundation

/// A word cloud: each word's size by its weight, placed along an Archimedean spiral from the centre, the first
/// position where its box overlaps no placed box. Deterministic: the same words give the same picture.
///
/// Words are set in a monospaced font (DejaVu Sans Mono), whose every character advances 0.602 em, so a word's box
/// is known exactly without measuring text: the layout's boxes are the rendered ones.
public struct WordCloud: Sendable {
    public struct Placed: Sendable, Equatable, Codable {
        public var text: String
        public var weight: Int
        public var fontSize: Double
        /// The box (top-left corner, width, height), in SVG user units.
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double
        public var rotated: Bool

        func overlaps(_ other: Placed) -> Bool {
            x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
        }
    }

    public let width: Double
    public let height: Double
    public let words: [Placed]
    /// Words that found no place inside the picture (the smallest ones, on a crowded cloud).
    public let left: [String]

    static let advance = 0.602
    static let lineHeight = 1.18
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    /// Lays out `entries` (text, weight), heaviest first, font sizes from `minFont` to `maxFont` by the square root of
    /// the weight; every third word is tried turned 90° first, the others level first. A word that finds no place is
    /// tried smaller (down to 8 px) before it is left out.
    public init(
        _ entries: [(String, Int)], width: Double = 800, height: Double = 500, minFont: Double = 12,
        maxFont: Double = 64
    ) {
        self.width = width
        self.height = height
        let sorted = entries.filter { $0.1 > 0 }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        let top = Double(sorted.first?.1 ?? 1)
        let bottom = Double(sorted.last?.1 ?? 1)
        var placed: [Placed] = []
        var left: [String] = []
        for (n, (text, weight)) in sorted.enumerated() {
            let share =
                top == bottom
                ? 1 : (Double(weight).squareRoot() - bottom.squareRoot()) / (top.squareRoot() - bottom.squareRoot())
            var size = minFont + (maxFont - minFont) * share
            // A word wider than the picture shrinks to fit.
            size = min(size, (width - 8) / (Double(text.count) * Self.advance))
            var found: Placed?
            // A word that finds no place at its size is tried smaller, down to 8 px, before it is left out.
            while found == nil && size >= 8 {
                found = Self.place(
                    text, weight: weight, size: size, upright: n % 3 != 2, among: placed, width: width, height: height)
                size *= 0.85
            }
            if let found { placed.append(found) } else { left.append(text) }
        }
        words = placed
        self.left = left
    }

    /// The first spot along the spiral where the word's box, level or turned (`upright` tries level first), stays
    /// inside the picture and overlaps nothing placed.
    static func place(
        _ text: String, weight: Int, size: Double, upright: Bool, among placed: [Placed], width: Double, height: Double
    ) -> Placed? {
        let level = (w: Double(text.count) * advance * size, h: size * lineHeight)
        for rotated in upright ? [false, true] : [true, false] {
            let box = rotated ? (w: level.h, h: level.w) : level
            if box.w > width || box.h > height { continue }
            // The spiral: r = 3θ, in steps of about 4 units of arc.
            var theta = 0.0
            while theta < 400 {
                let r = 3 * theta
                let cx = width / 2 + r * cos(theta) * (width / height)
                let cy = height / 2 + r * sin(theta)
                let candidate = Placed(
                    text: text, weight: weight, fontSize: size, x: (cx - box.w / 2).rounded(),
                    y: (cy - box.h / 2).rounded(),
                    width: box.w, height: box.h, rotated: rotated)
                if candidate.x >= 0, candidate.y >= 0, candidate.x + box.w <= width, candidate.y + box.h <= height,
                    !placed.contains(where: { $0.overlaps(candidate) })
                {
                    return candidate
                }
                theta += max(0.05, 4 / max(r, 4))
            }
        }
        return nil
    }

    /// Whether any two placed boxes overlap (the layout never makes them; checked by the tests).
    public var hasOverlaps: Bool {
        for i in words.indices { for j in words.indices where j > i && words[i].overlaps(words[j]) { return true } }
        return false
    }

    /// The picture as SVG: each word a `<text>` in its box, coloured by rank.
    public func svg(title: String) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func number(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" role="img">
            <title>\(escape(title))</title>
            <rect width="100%" height="100%" fill="#ffffff"/>
            <g font-family="DejaVu Sans Mono, monospace" text-anchor="middle" dominant-baseline="central">

            """
        for (rank, w) in words.enumerated() {
            let cx = w.x + w.width / 2
            let cy = w.y + w.height / 2
            let colour = Self.palette[rank % Self.palette.count]
            let transform = w.rotated ? " transform=\"rotate(-90 \(number(cx)) \(number(cy)))\"" : ""
            out +=
                "<text x=\"\(number(cx))\" y=\"\(number(cy))\" font-size=\"\(number(w.fontSize))\" fill=\"\(colour)\"\(transform)><title>\(escape(w.text)): \(w.weight)</title>\(escape(w.text))</text>\n"
        }
        out += "</g>\n</svg>\n"
        return out
    }

    /// The cloud for a terminal: ranked lines, the heaviest in bold capitals, a bar by weight, and colours when
    /// `colours` (ANSI, by rank as in the SVG); `columns` wide. Without `unicode` (a locale that cannot show UTF-8)
    /// the bars are `#`.
    public static func terminal(
        _ entries: [(String, Int)], columns: Int = 80, colours: Bool, limit: Int = 30, unicode: Bool = true
    ) -> String {
        let sorted = entries.filter { $0.1 > 0 }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(limit)
        guard let top = sorted.first?.1 else { return "no entities\n" }
        let codes = [34, 31, 32, 35, 33, 36, 37, 95]
        let nameWidth = min(40, sorted.map(\.0.count).max() ?? 10)
        let barWidth = max(10, columns - nameWidth - 10)
        var out = ""
        for (rank, (text, weight)) in sorted.enumerated() {
            let share = Double(weight) / Double(top)
            // Three sizes, as far as a terminal goes: capitals and bold, bold, plain.
            let shown = share > 0.66 ? text.uppercased() : text
            let name = String(shown.prefix(nameWidth)).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            let bar = String(repeating: unicode ? "█" : "#", count: max(1, Int((share * Double(barWidth)).rounded())))
            let count = String(weight).padding(toLength: 6, withPad: " ", startingAt: 0)
            if colours {
                let style = share > 0.33 ? "1;" : ""
                out +=
                    "\u{1B}[\(style)\(codes[rank % codes.count])m\(name)\u{1B}[0m \(count) \u{1B}[\(codes[rank % codes.count])m\(bar)\u{1B}[0m\n"
            } else {
                out += "\(name) \(count) \(bar)\n"
            }
        }
        return out
    }
}
