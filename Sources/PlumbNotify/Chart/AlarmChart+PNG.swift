import Foundation
import PlumbAPI

extension AlarmChart {
    /// The chart as a PNG at `scale` device pixels per CSS pixel (2: sharp on high-density screens; the mail shows
    /// it at `width` × `height`). Drawn by `Raster` from the same marks as `svg()`, labels in a 5 × 7 pixel font.
    public func png(
        width: Double = AlarmChart.width, height: Double = AlarmChart.height, scale: Double = 2
    ) throws -> [UInt8] {
        guard width * scale >= 1, width * scale <= 8_192, height * scale >= 1, height * scale <= 8_192 else {
            throw ChartError("a chart picture must be 1 to 8192 pixels on each side")
        }
        let w = Int((width * scale).rounded())
        let h = Int((height * scale).rounded())
        var raster = Raster(width: w, height: h, scale: scale, background: Self.background)
        // Font pixels of 1.5 CSS pixels (3 device pixels at scale 2): a 10.5 px cap height, close to the SVG's 11 px font.
        let dot = 1.5
        for mark in marks(width: width, height: height) {
            switch mark {
            case .rect(let x, let y, let rw, let rh, let fill):
                raster.fill(x: x, y: y, width: rw, height: rh, color: fill)
            case .line(let points, let lineWidth, let color, nil):
                raster.stroke(points, lineWidth: lineWidth, color: color)
            case .line(let points, let lineWidth, let color, let dash?):
                raster.dashed(points, lineWidth: lineWidth, dash: dash, color: color)
            case .disc(let x, let y, let r, let fill): raster.disc(x: x, y: y, radius: r, color: fill)
            case .text(let x, let y, let text, let anchor, let color):
                raster.text(text, x: x, y: y, anchor: anchor, dot: dot, color: color)
            }
        }
        return try PNGEncoder.encode(width: w, height: h, rgb: raster.pixels)
    }
}
