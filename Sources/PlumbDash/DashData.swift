import Foundation

/// What one refresh fetched: every widget's series (one batch query), alarms, log lines and table rows.
public struct DashData: Sendable {
    public struct Series: Sendable, Equatable {
        public var label: String
        public var timestamps: [Int64]
        public var values: [Double]

        public init(label: String, timestamps: [Int64], values: [Double]) {
            self.label = label
            self.timestamps = timestamps
            self.values = values
        }

        public var latest: Double? { values.last }
    }

    public struct Alarm: Sendable, Equatable {
        public var name: String
        public var state: String
        public var reason: String
        /// "until … by … (comment)" while a silence holds the alarm's notifications.
        public var silenced: String?

        public init(name: String, state: String, reason: String, silenced: String? = nil) {
            self.name = name
            self.state = state
            self.reason = reason
            self.silenced = silenced
        }
    }

    public struct LogLine: Sendable, Equatable {
        public var timestamp: Int64
        public var message: String

        public init(timestamp: Int64, message: String) {
            self.timestamp = timestamp
            self.message = message
        }
    }

    /// The time window shown, epoch seconds [start, end).
    public var start: Int64
    public var end: Int64
    /// Series per widget key (`w3`), in query order.
    public var series: [String: [Series]] = [:]
    /// Table cells per widget key: row label → one value per column (nil when missing).
    public var tables: [String: [(String, [Double?])]] = [:]
    /// Heatmap per widget key: per period, (percentile, value) pairs.
    public var heatmaps: [String: [(Int64, [(Double, Double)])]] = [:]
    public var alarms: [Alarm] = []
    public var logs: [String: [LogLine]] = [:]
    /// Why a part could not be fetched (shown in the status line).
    public var problems: [String] = []

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Takes what `newer` fetched for the widgets `keys` (and the alarms when it holds an alarms widget's fetch).
    public mutating func merge(_ newer: DashData, keys: Set<String>, alarms: Bool) {
        start = newer.start
        end = newer.end
        for key in keys {
            series[key] = newer.series[key]
            tables[key] = newer.tables[key]
            heatmaps[key] = newer.heatmaps[key]
            logs[key] = newer.logs[key]
        }
        if alarms { self.alarms = newer.alarms }
        problems = newer.problems
    }
}

/// Number formatting shared by the widgets: SI suffixes, units.
enum Format {
    static func value(_ x: Double, unit: String = "", decimals: Int? = nil) -> String {
        guard x.isFinite else { return "–" }
        let a = abs(x)
        var text: String
        if let decimals {
            text = String(format: "%.\(decimals)f", x)
        } else if a >= 1e9 {
            text = trim(String(format: "%.1f", x / 1e9)) + "G"
        } else if a >= 1e6 {
            text = trim(String(format: "%.1f", x / 1e6)) + "M"
        } else if a >= 1e4 {
            text = trim(String(format: "%.1f", x / 1e3)) + "k"
        } else if a >= 100 || a == 0 || x == x.rounded() {
            text = String(format: "%.0f", x)
        } else if a >= 1 {
            text = trim(String(format: "%.2f", x))
        } else {
            text = trim(String(format: "%.3f", x))
        }
        if text == "-0" { text = "0" }
        return unit.isEmpty ? text : (unit == "%" ? text + "%" : text + " " + unit)
    }

    static func trim(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = s
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }

    /// `HH:MM` (UTC) of an epoch second.
    static func clock(_ t: Int64) -> String {
        let s = ((t % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d", s / 3_600, (s % 3_600) / 60)
    }

    static func clockSeconds(_ t: Int64) -> String {
        let s = ((t % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", s / 3_600, (s % 3_600) / 60, s % 60)
    }
}
