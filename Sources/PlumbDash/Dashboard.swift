import Foundation
import PlumbAPI
import Yams

/// A dashboard file (`dashboards/NAME.yaml`, `version: 1`): variables, a time range and refresh, pages of rows of
/// widgets.
public struct Dashboard: Sendable {
    public var name: String
    public var title: String
    public var variables: [Variable]
    /// Seconds of history shown.
    public var range: Int64
    /// Seconds between refreshes.
    public var refresh: Double
    /// The period of every query (default: range / 60, at least 10 s, rounded to a valid period).
    public var period: Int64
    public var pages: [Page]

    public struct Variable: Sendable {
        public var name: String
        public var value: String
        /// Values from a metric's dimension (`from: {namespace, metric, dimension}`): the first is the default.
        public var from: (namespace: String, metric: String, dimension: String)?
    }

    public struct Page: Sendable {
        public var title: String
        public var rows: [Row]
    }

    public struct Row: Sendable {
        public var height: Size
        public var widgets: [Widget]
    }

    /// A cell count, a percentage of the space, or a share of what is left.
    public enum Size: Sendable, Equatable {
        case cells(Int)
        case percent(Double)
        case auto
    }

    public struct Threshold: Sendable, Equatable {
        public var value: Double
        public var tint: Tint
    }

    public enum Kind: String, Sendable, CaseIterable {
        case timeseries, sparkline, stat, gauge, bar, table, alarms, logs, heatmap, text
    }

    public struct Column: Sendable {
        public var title: String
        public var metric: String
        public var stat: Statistic
    }

    public struct Widget: Sendable {
        public var kind: Kind
        public var title: String
        public var width: Size
        /// Metric queries and expressions, ids as written (unique in the widget); prefixed per widget when fetched.
        public var queries: [MetricDataQuery] = []
        public var unit: String = ""
        public var yMin: Double?
        public var yMax: Double?
        public var thresholds: [Threshold] = []
        public var decimals: Int?
        public var text: String = ""
        /// `logs`: the group and the filter pattern.
        public var logGroup: String = ""
        public var filter: String = ""
        /// `table`: rows are the values of `dimension` in `namespace` (of `columns[0].metric`).
        public var namespace: String = ""
        public var dimension: String = ""
        public var columns: [Column] = []
        /// Seconds between this widget's refreshes; nil follows the dashboard's (which `+` and `-` change).
        public var refresh: Double?
        /// `table`: the column sorted by at start (1-based among `columns`, largest first); nil sorts by name.
        public var sort: Int?
        /// `alarms`: only names with this prefix.
        public var prefix: String = ""
        /// `gauge`: the full scale.
        public var max: Double = 100
        /// `heatmap`: the metric whose percentiles are drawn.
        public var metric: SeriesKey?
    }

    /// The widgets of `page`, in order (rows top to bottom, left to right).
    public func widgets(page: Int) -> [Widget] {
        guard pages.indices.contains(page) else { return [] }
        return pages[page].rows.flatMap(\.widgets)
    }

    /// The key of widget `index` on `page` in `DashData` (`w<index over the whole dashboard>`).
    public func key(page: Int, index: Int) -> String {
        "w\(pages.prefix(page).reduce(0) { $0 + $1.rows.reduce(0) { $0 + $1.widgets.count } } + index)"
    }

    /// Every widget with its page and index, in order.
    public var allWidgets: [(page: Int, widget: Widget)] {
        pages.enumerated().flatMap { p, page in page.rows.flatMap { $0.widgets }.map { (p, $0) } }
    }
}

public struct DashboardError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let field: String
    public let message: String
    public var description: String { "\(file):\(line): \(field): \(message)" }
}

public struct DashboardErrors: Error, CustomStringConvertible, Sendable {
    public let errors: [DashboardError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
