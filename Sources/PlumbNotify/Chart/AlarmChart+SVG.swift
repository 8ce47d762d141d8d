import Foundation
import PlumbAPI

extension AlarmChart {
    /// The chart as a standalone SVG document (for the alarm page, inline in its HTML).
    public func svg(width: Double = AlarmChart.width, height: Double = AlarmChart.height) -> String {
        var out =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\""
        out +=
            " role=\"img\" aria-label=\"\(EmailRenderer.escape(summary))\" font-family=\"sans-serif\" font-size=\"11\">"
        out += "<title>\(EmailRenderer.escape(summary))</title>"
        for mark in marks(width: width, height: height) {
            switch mark {
            case .rect(let x, let y, let w, let h, let fill):
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill.hex)\"/>"
            case .line(let points, let w, let color, let dash):
                let list = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"\(n(w))\""
                out += " stroke-linejoin=\"round\" stroke-linecap=\"round\""
                if let dash { out += " stroke-dasharray=\"\(n(dash)) \(n(dash * 0.7))\"" }
                out += "/>"
            case .disc(let x, let y, let r, let fill):
                out += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" fill=\"\(fill.hex)\"/>"
            case .text(let x, let y, let text, let anchor, let color):
                out +=
                    "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\" fill=\"\(color.hex)\">\(EmailRenderer.escape(text))</text>"
            }
        }
        return out + "</svg>"
    }

    /// A coordinate with at most two decimals.
    private func n(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
        var text = String(format: "%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
