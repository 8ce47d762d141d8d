import Foundation
import PlumbAPI
import PlumbMetrics

/// One state change of one alarm, and the topics its actions notify (empty when none or suppressed).
public struct AlarmTransition: Sendable {
    public var alarm: AlarmDefinition
    public var oldState: AlarmState
    public var newState: AlarmState
    public var reason: String
    public var reasonData: String?
    public var timestamp: Int64
    public var topics: [String]

    /// The notification published to each topic: subject, JSON message and attributes. `url` is the alarm page's
    /// signed link (valid until `urlExpires`), `chart` the watched value over the chart window ending at this
    /// evaluation (`AlarmDataSource.chartDatapoints`), empty for a composite alarm.
    public func notification(
        url: String?, urlExpires: Int64? = nil, chart: [EvaluationDatapoint] = []
    ) -> (subject: String, message: String, attributes: [String: String]) {
        var message = AlarmMessage(
            alarmName: alarm.name, alarmDescription: nil, alarmType: alarm.kind, oldState: oldState.rawValue,
            newState: newState.rawValue, reason: reason, time: TimeParsing.format(timestamp))
        message.severity = alarm.severity
        alarm.describe(&message)
        if case .metric(let a) = alarm, !chart.isEmpty { message.datapoints = a.messageDatapoints(chart) }
        message.url = url
        message.urlExpires = urlExpires.map(TimeParsing.format)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let subject = String("\(newState.rawValue): \"\(alarm.name)\" in Plumb".prefix(100))
        return (
            subject, json,
            [
                AlarmMessage.eventAttribute: AlarmMessage.eventValue, "alarm": alarm.name, "state": newState.rawValue,
            ]
        )
    }
}

/// CloudWatch's StateReasonData for a metric alarm's evaluation.
struct ReasonData: Encodable {
    struct Point: Encodable {
        var timestamp: String
        var sampleCount: Double
        var value: Double
    }

    var version = "1.0"
    var queryDate: String
    var startDate: String
    var statistic: String
    var period: Int64
    var recentDatapoints: [Double]
    var threshold: Double
    var evaluatedDatapoints: [Point]

    static func json(
        alarm: MetricAlarm, evaluation: AlarmEvaluation, range: [EvaluationDatapoint], now: Int64
    ) -> String? {
        let data = ReasonData(
            queryDate: TimeParsing.format(now), startDate: TimeParsing.format(range.first?.timestamp ?? now),
            statistic: alarm.statistic.description, period: alarm.period,
            recentDatapoints: range.compactMap(\.value), threshold: alarm.threshold,
            evaluatedDatapoints: evaluation.evaluated.reversed().map {
                Point(timestamp: TimeParsing.format($0.timestamp), sampleCount: $0.sampleCount, value: $0.value ?? 0)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// History data of a state update: `{"oldState": {...}, "newState": {...}}`.
struct StateHistoryData: Encodable {
    struct State: Encodable {
        var stateValue: String
        var stateReason: String?
    }

    var oldState: State
    var newState: State

    static func json(old: AlarmState, new: AlarmState, newReason: String) -> String? {
        let data = StateHistoryData(
            oldState: .init(stateValue: old.rawValue, stateReason: nil),
            newState: .init(stateValue: new.rawValue, stateReason: newReason))
        return (try? JSONEncoder().encode(data)).map { String(decoding: $0, as: UTF8.self) }
    }
}
