import Foundation

/// One drawing instruction of a chart, in CSS pixels: the SVG and the PNG renderer draw the same list, so the chart
/// in the mail and on the alarm page cannot drift apart.
public enum ChartMark: Sendable, Equatable {
    /// An 8-bit sRGB colour.
    public struct Color: Sendable, Equatable {
        public var red: UInt8
        public var green: UInt8
        public var blue: UInt8

        public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        /// `#rrggbb`.
        public var hex: String { String(format: "#%02x%02x%02x", red, green, blue) }
    }

    public enum Anchor: Sendable, Equatable { case start, middle, end }

    /// A filled axis-aligned rectangle.
    case rect(x: Double, y: Double, width: Double, height: Double, fill: Color)
    /// An open polyline; `dash` is the on/off length of a dashed line (nil: solid).
    case line(points: [(x: Double, y: Double)], width: Double, color: Color, dash: Double?)
    /// A filled circle.
    case disc(x: Double, y: Double, radius: Double, fill: Color)
    /// A label in the chart font whose baseline starts, centres or ends at (x, y).
    case text(x: Double, y: Double, text: String, anchor: Anchor, color: Color)

    public static func == (a: ChartMark, b: ChartMark) -> Bool {
        switch (a, b) {
        case let (.rect(x1, y1, w1, h1, f1), .rect(x2, y2, w2, h2, f2)):
            x1 == x2 && y1 == y2 && w1 == w2 && h1 == h2 && f1 == f2
        case let (.line(p1, w1, c1, d1), .line(p2, w2, c2, d2)):
            p1.count == p2.count && zip(p1, p2).allSatisfy { $0.x == $1.x && $0.y == $1.y } && w1 == w2 && c1 == c2
                && d1 == d2
        case let (.disc(x1, y1, r1, f1), .disc(x2, y2, r2, f2)): x1 == x2 && y1 == y2 && r1 == r2 && f1 == f2
        case let (.text(x1, y1, t1, a1, c1), .text(x2, y2, t2, a2, c2)):
            x1 == x2 && y1 == y2 && t1 == t2 && a1 == a2 && c1 == c2
        default: false
        }
    }
}
