import Foundation
import PlumbAPI

extension AlarmChart {
    /// The size the mail and the page show it at, in CSS pixels.
    public static let width = 640.0
    public static let height = 220.0

    /// Points with a finite value.
    var present: [Point] { points.filter { $0.value?.isFinite == true } }

    /// A sentence for `alt` text and screen readers: what the picture shows.
    public var summary: String {
        let breaching = points.count(where: { $0.breaching && $0.value != nil })
        let values = present.compactMap(\.value)
        var text = "Chart of \(points.count) periods of \(period) s"
        if let low = values.min(), let high = values.max() {
            text += ", values from \(ChartAxis.plain(low)) to \(ChartAxis.plain(high))"
        } else {
            text += ", no data"
        }
        text +=
            "; threshold \(ChartAxis.plain(threshold)); \(breaching) breaching datapoint\(breaching == 1 ? "" : "s")"
        return text + "."
    }

    /// What the marks mean, for a caption under the picture.
    public static func legend(threshold: Double) -> String {
        "Dashed red line: the threshold (\(ChartAxis.plain(threshold))). Red dots: datapoints beyond it. "
            + "Shaded: the periods the evaluation read. Times in UTC."
    }
}
