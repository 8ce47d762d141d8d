import Foundation
import PlumbAPI

extension AlarmChart {
    static let background = ChartMark.Color(255, 255, 255)
    static let band = ChartMark.Color(253, 238, 214)
    static let grid = ChartMark.Color(230, 230, 230)
    static let axis = ChartMark.Color(150, 150, 150)
    static let label = ChartMark.Color(85, 85, 85)
    static let series = ChartMark.Color(44, 111, 187)
    static let breach = ChartMark.Color(192, 57, 43)

    /// Plot margins in CSS pixels: room for the y labels on the left and the time labels below.
    static let margin = (left: 64.0, right: 16.0, top: 14.0, bottom: 30.0)

    /// The chart as drawing instructions for a `width` × `height` picture.
    public func marks(width: Double = AlarmChart.width, height: Double = AlarmChart.height) -> [ChartMark] {
        let left = Self.margin.left
        let top = Self.margin.top
        let plotWidth = max(1, width - left - Self.margin.right)
        let plotHeight = max(1, height - top - Self.margin.bottom)
        let bottom = top + plotHeight
        var marks: [ChartMark] = [.rect(x: 0, y: 0, width: width, height: height, fill: Self.background)]
        let n = max(points.count, 1)
        let slot = plotWidth / Double(n)
        func x(_ i: Int) -> Double { left + (Double(i) + 0.5) * slot }

        // The periods the evaluation read.
        if let first = points.firstIndex(where: \.evaluated) {
            let last = points.lastIndex(where: \.evaluated) ?? first
            marks.append(
                .rect(
                    x: left + Double(first) * slot, y: top, width: Double(last - first + 1) * slot, height: plotHeight,
                    fill: Self.band))
        }

        let (low, high, ticks, step) = ChartAxis.ticks(covering: present.compactMap(\.value) + [threshold])
        func y(_ v: Double) -> Double {
            let fraction = (v / 2 - low / 2) / (high / 2 - low / 2)
            guard fraction.isFinite else { return top + plotHeight / 2 }
            return top + plotHeight * (1 - min(max(fraction, -0.05), 1.05))
        }
        for t in ticks {
            marks.append(
                .line(points: [(left, y(t)), (left + plotWidth, y(t))], width: 1, color: Self.grid, dash: nil))
            marks.append(
                .text(x: left - 8, y: y(t) + 4, text: ChartAxis.label(t, step: step), anchor: .end, color: Self.label))
        }
        marks.append(
            .line(
                points: [(left, top), (left, bottom), (left + plotWidth, bottom)], width: 1, color: Self.axis, dash: nil
            ))

        // Time labels every `step` periods back from the newest, as many as fit without touching; kept inside the
        // picture (9 px a character is the wider of the two fonts).
        if let firstTime = points.first?.timestamp, let lastTime = points.last?.timestamp {
            let span = lastTime - firstTime
            let characters = ChartAxis.timeLabel(firstTime, period: period, span: span).count
            let fitting = max(1, min(6, Int(plotWidth / (Double(characters) * 7 + 24))))
            let step =
                fitting <= 1
                ? max(points.count, 1) : max(1, Int((Double(points.count - 1) / Double(fitting - 1)).rounded(.up)))
            let halfWidth = Double(characters) * 9 / 2
            for i in stride(from: points.count - 1, through: 0, by: -step) {
                marks.append(
                    .line(points: [(x(i), bottom), (x(i), bottom + 4)], width: 1, color: Self.axis, dash: nil))
                let label = ChartAxis.timeLabel(points[i].timestamp, period: period, span: span)
                let (at, anchor): (Double, ChartMark.Anchor) =
                    x(i) + halfWidth > width - 2
                    ? (width - 2, .end) : x(i) - halfWidth < 2 ? (2, .start) : (x(i), .middle)
                marks.append(.text(x: at, y: bottom + 18, text: label, anchor: anchor, color: Self.label))
            }
        }

        marks.append(
            .line(
                points: [(left, y(threshold)), (left + plotWidth, y(threshold))], width: 1.5, color: Self.breach,
                dash: 6))

        // The series: a line through consecutive periods with data, broken where one has none.
        var run: [(x: Double, y: Double)] = []
        for (i, p) in points.enumerated() {
            if let v = p.value, v.isFinite {
                run.append((x(i), y(v)))
            } else {
                if run.count > 1 { marks.append(.line(points: run, width: 2, color: Self.series, dash: nil)) }
                run = []
            }
        }
        if run.count > 1 { marks.append(.line(points: run, width: 2, color: Self.series, dash: nil)) }
        for (i, p) in points.enumerated() {
            guard let v = p.value, v.isFinite else { continue }
            marks.append(
                p.breaching
                    ? .disc(x: x(i), y: y(v), radius: 4.5, fill: Self.breach)
                    : .disc(x: x(i), y: y(v), radius: 2.5, fill: Self.series))
        }
        if present.isEmpty {
            marks.append(
                .text(
                    x: left + plotWidth / 2, y: top + plotHeight / 2, text: "no data", anchor: .middle,
                    color: Self.label))
        }
        return marks
    }
}
