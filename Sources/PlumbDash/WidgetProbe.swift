/// What one refresh gave each widget of a page: the figure behind `plumb dash NAME --probe`, which tells an operator
/// (and the shipped-dashboards test) which widgets show data and which would say "no data".
public enum WidgetProbe {
    /// How many values the widget has to draw: datapoints, table cells, heatmap periods, alarms or log lines; nil for a
    /// widget that shows no data by design (text).
    public static func values(_ widget: Dashboard.Widget, key: String, in data: DashData) -> Int? {
        switch widget.kind {
        case .text: nil
        case .timeseries, .sparkline, .stat, .gauge, .bar: (data.series[key] ?? []).reduce(0) { $0 + $1.values.count }
        case .table: (data.tables[key] ?? []).reduce(0) { $0 + $1.1.compactMap { $0 }.count }
        case .heatmap: data.heatmaps[key]?.count ?? 0
        case .alarms: data.alarms.count
        case .logs: data.logs[key]?.count ?? 0
        }
    }
}
