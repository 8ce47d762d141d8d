import Foundation
import PlumbAPI

/// The chart of an alarm: its watched value per period, the threshold as a dashed line, breaching datapoints as red
/// dots and the periods the evaluation read shaded, so that whoever opens the mail or the alarm page sees the breach
/// without querying anything.
///
/// PlumbAlarms builds it (`MetricAlarm.chart`), PlumbNotify draws it: `marks` lays it out once; `svg()` and `png()`
/// draw that layout (the page embeds the SVG, the mail attaches the PNG, since many mail clients do not show SVG).
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

    public init(points: [Point], threshold: Double, period: Int64) {
        self.points = points
        self.threshold = threshold
        self.period = period
    }

    /// The chart a notification carries; nil for one without datapoints or threshold (a composite alarm, a message
    /// from an older server).
    public init?(_ message: AlarmMessage) {
        guard let datapoints = message.datapoints, !datapoints.isEmpty, let threshold = message.threshold else {
            return nil
        }
        let formatter = ISO8601DateFormatter()
        var points: [Point] = []
        for d in datapoints {
            guard let date = formatter.date(from: d.timestamp) else { return nil }
            points.append(
                Point(
                    timestamp: Int64(date.timeIntervalSince1970), value: d.value, breaching: d.breaching,
                    evaluated: d.evaluated))
        }
        self.init(points: points, threshold: threshold, period: message.period ?? message.metric?.period ?? 60)
    }
}
