import Foundation

/// The chart of an alarm: its watched value per period, the threshold as a dashed line, breaching datapoints as red
/// dots and the periods the evaluation read shaded, so that whoever opens the mail or the alarm page sees the breach
/// without querying anything.
///
/// `marks` lays it out once; `svg()` and `png()` draw that layout (the page embeds the SVG, the mail attaches the
/// PNG, since many mail clients do not show SVG).
public struct AlarmChart: Sendable, Equatable {
    /// One period: its start, its value (nil without data), whether it is beyond the threshold and whether the
    /// evaluation read it.
    public struct Point: Sendable, Equatable {
        public var timestamp: Int64
        public var value: Double?
        public var breaching: Bool
        public var evaluated: Bool

        public init(timestamp: Int64, value: Double?, breaching: Bool, evaluated: Bool) {
            self.timestamp = timestamp
            self.value = value
            self.breaching = breaching
            self.evaluated = evaluated
        }
    }

    /// Oldest first, one per period, missing periods included (value nil).
    public var points: [Point]
    public var threshold: Double
    /// Seconds per period.
    public var period: Int64

    /// The size the mail and the page show it at, in CSS pixels.
    public static let width = 640.0
    public static let height = 220.0

    public init(points: [Point], threshold: Double, period: Int64) {
        self.points = points
        self.threshold = threshold
        self.period = period
    }

    /// The chart a notification carries; nil for one without datapoints or threshold (a composite alarm, a message
    /// from an older server).
    public init?(_ message: AlarmMessage) {
        guard let datapoints = message.datapoints, !datapoints.isEmpty, let threshold = message.threshold else { return nil }
        let formatter = ISO8601DateFormatter()
        var points: [Point] = []
        for d in datapoints {
            guard let date = formatter.date(from: d.timestamp) else { return nil }
            points.append(Point(timestamp: Int64(date.timeIntervalSince1970), value: d.value, breaching: d.breaching, evaluated: d.evaluated))
        }
        self.init(points: points, threshold: threshold, period: message.period ?? message.metric?.period ?? 60)
    }

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
        text += "; threshold \(ChartAxis.plain(threshold)); \(breaching) breaching datapoint\(breaching == 1 ? "" : "s")"
        return text + "."
    }
}

extension AlarmChart {
    /// What the marks mean, for a caption under the picture.
    public static func legend(threshold: Double) -> String {
        "Dashed red line: the threshold (\(ChartAxis.plain(threshold))). Red dots: datapoints beyond it. "
            + "Shaded: the periods the evaluation read. Times in UTC."
    }
}
