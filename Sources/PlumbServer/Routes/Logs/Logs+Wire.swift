import Foundation
import PlumbAPI
import PlumbLogs

// The logs API's wire types (PlumbAPI) made from the log store's values.

extension LogGroupDescription {
    init(_ group: LogGroupSummary) {
        self.init(
            name: group.name, retentionDays: group.retentionDays, storedEvents: group.storedEvents,
            archivedEvents: group.archivedEvents,
            archiveCompressionRatio: group.archiveCompressedBytes > 0
                ? Double(group.archiveRawBytes) / Double(group.archiveCompressedBytes) : nil,
            createdAt: TimeParsing.format(group.createdAt / 1_000))
    }
}

extension LogStreamDescription {
    init(_ stream: LogStreamSummary) {
        self.init(name: stream.name, lastEventAt: stream.lastEventAt.map { TimeParsing.format($0 / 1_000) })
    }
}

extension LogEventDescription {
    init(_ event: LogEvent) {
        self.init(
            id: event.id, stream: event.stream, timestamp: event.timestamp, time: Self.millisTime(event.timestamp),
            ingestionTime: event.ingestionTime, message: event.message)
    }

    /// RFC 3339 with milliseconds, built on TimeParsing.format (no formatter per event on the search path).
    static func millisTime(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1_000 : (ms - 999) / 1_000
        let millis = ms - seconds * 1_000
        let whole = TimeParsing.format(seconds)
        return String(whole.dropLast()) + "." + String(format: "%03d", millis) + "Z"
    }
}

extension MetricFilterDescription {
    /// `source` is `file` for a filter declared in an alert file, `api` for one made through the API.
    init(_ f: MetricFilter, fromFile: Bool) {
        let value: String =
            switch f.value {
            case .constant(let v): v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
            case .field(let name): "$" + name
            }
        self.init(
            name: f.name, logGroup: f.group, pattern: f.pattern.text, namespace: f.namespace, metric: f.metric,
            value: value,
            defaultValue: f.defaultValue, unit: f.unit?.rawValue, dimensions: f.dimensions,
            source: fromFile ? "file" : "api")
    }
}
