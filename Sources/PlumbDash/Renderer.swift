import Foundation

/// What the viewer chose: page, focused widget, zoom, the `/` filter, pause.
public struct ViewState: Sendable, Equatable {
    public var page = 0
    public var focus = 0
    public var zoomed = false
    public var filter = ""
    public var paused = false
    public var help = false
    /// Seconds the window is shifted into the past (`[` and `]`).
    public var shift: Int64 = 0
    /// The focused table's sort: nil for the file's `sort` (or by name), else a column (0 the name, 1… the
    /// columns, descending); `s` cycles it.
    public var sortColumn: Int?

    public init() {}
}

/// Draws a dashboard page (or one zoomed widget) with its data onto a canvas.
public struct Renderer: Sendable {
    public let dashboard: Dashboard
    public let symbols: GraphSymbols

    public init(dashboard: Dashboard, symbols: GraphSymbols) {
        self.dashboard = dashboard
        self.symbols = symbols
    }

    public func key(page: Int, index: Int) -> String { dashboard.key(page: page, index: index) }

    public func widgets(page: Int) -> [Dashboard.Widget] { dashboard.widgets(page: page) }

    /// Splits `total` cells over sizes: fixed cells first, then percentages of the total, the rest shared by `auto`.
    static func split(_ total: Int, _ sizes: [Dashboard.Size]) -> [Int] {
        var out = sizes.map { size -> Int in
            switch size {
            case .cells(let n): n
            case .percent(let p): Int((Double(total) * p / 100).rounded(.down))
            case .auto: 0
            }
        }
        let autos = sizes.indices.filter { sizes[$0] == .auto }
        let left = max(0, total - out.reduce(0, +))
        for (k, i) in autos.enumerated() { out[i] = left / autos.count + (k < left % autos.count ? 1 : 0) }
        // Shrink from the end when fixed sizes overflow: widgets degrade, they never draw outside the frame.
        var over = out.reduce(0, +) - total
        var i = out.count - 1
        while over > 0, i >= 0 {
            let cut = min(over, out[i])
            out[i] -= cut
            over -= cut
            i -= 1
        }
        return out
    }

    /// The rectangles of the page's widgets inside `area`, in widget order.
    public func layout(page: Int, in area: Rect) -> [Rect] {
        guard dashboard.pages.indices.contains(page) else { return [] }
        let rows = dashboard.pages[page].rows
        let heights = Self.split(area.height, rows.map(\.height))
        var rects: [Rect] = []
        var y = area.y
        for (row, h) in zip(rows, heights) {
            let widths = Self.split(area.width, row.widgets.map(\.width))
            var x = area.x
            for w in widths {
                rects.append(Rect(x: x, y: y, width: w, height: h))
                x += w
            }
            y += h
        }
        return rects
    }

    /// One frame: the title line, the page (or the zoomed widget), the status line.
    public func render(_ data: DashData, state: ViewState, width: Int, height: Int, status: String = "") -> Canvas {
        var canvas = Canvas(width: width, height: height, symbols: symbols)
        guard width > 0, height > 0 else { return canvas }
        let page = min(max(0, state.page), max(0, dashboard.pages.count - 1))
        let pageTitle = dashboard.pages.isEmpty ? "" : dashboard.pages[page].title
        let pages = dashboard.pages.count > 1 ? "  [\(page + 1)/\(dashboard.pages.count) \(pageTitle)]" : ""
        let window = "\(Format.clock(data.start))–\(Format.clock(data.end)) UTC" + (state.paused ? "  PAUSED" : "")
        canvas.text(0, 0, dashboard.title + pages, .accent, bold: true, maxWidth: max(0, width - window.count - 1))
        if width > window.count + dashboard.title.count + 2 { canvas.text(width - window.count, 0, window, .dim) }
        guard height > 2 else { return canvas }
        let area = Rect(x: 0, y: 1, width: width, height: height - 2)
        let widgets = widgets(page: page)
        let focus = widgets.isEmpty ? 0 : min(state.focus, widgets.count - 1)
        if state.zoomed, !widgets.isEmpty {
            draw(
                widgets[focus], key: key(page: page, index: focus), data: data, rect: area, focused: true, state: state,
                on: &canvas)
        } else {
            for (i, (widget, rect)) in zip(widgets, layout(page: page, in: area)).enumerated() {
                draw(
                    widget, key: key(page: page, index: i), data: data, rect: rect, focused: i == focus, state: state,
                    on: &canvas)
            }
        }
        let hint = state.filter.isEmpty ? status : "filter: \(state.filter)   " + status
        canvas.text(
            0, height - 1,
            hint.isEmpty
                ? "q quit  p pause  Tab focus  Enter zoom  [ ] time  1-9 page  / filter  + - refresh  ? help" : hint,
            .dim, maxWidth: width)
        if state.help { drawHelp(on: &canvas) }
        if symbols == .ascii { canvas.replaceNonASCII() }
        return canvas
    }

    func drawHelp(on canvas: inout Canvas) {
        let lines = [
            "q        quit", "p        pause / resume", "Tab ←→↑↓ focus a widget",
            "Enter    zoom the focused widget (again: back)",
            "[ ]      shift the time window back / forward", "1–9      page",
            "/        filter the focused table or log (Enter to apply, Esc to clear)",
            "s        sort the focused table (name, then each column)",
            "+ -      refresh faster / slower", "?        this help",
        ]
        let w = min(canvas.width - 2, (lines.map(\.count).max() ?? 0) + 4)
        let h = min(canvas.height - 2, lines.count + 2)
        guard w > 4, h > 2 else { return }
        let rect = Rect(x: (canvas.width - w) / 2, y: (canvas.height - h) / 2, width: w, height: h)
        for y in rect.y..<(rect.y + rect.height) { for x in rect.x..<(rect.x + rect.width) { canvas.put(x, y, " ") } }
        canvas.box(rect, title: "help", focused: true)
        for (i, line) in lines.prefix(h - 2).enumerated() {
            canvas.text(rect.x + 2, rect.y + 1 + i, line, maxWidth: w - 3)
        }
    }

    func draw(
        _ widget: Dashboard.Widget, key: String, data: DashData, rect: Rect, focused: Bool, state: ViewState,
        on canvas: inout Canvas
    ) {
        guard !rect.isEmpty else { return }
        // Room for a border: a box; two rows: the title over one row of content; one row: the content alone.
        let inner: Rect
        if rect.width >= 3 && rect.height >= 3 {
            canvas.box(rect, title: widget.title, focused: focused)
            inner = rect.inner
        } else if rect.height == 2 {
            canvas.text(rect.x, rect.y, widget.title, focused ? .accent : .plain, bold: true, maxWidth: rect.width)
            inner = Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: 1)
        } else {
            inner = rect
        }
        guard !inner.isEmpty else { return }
        let filter = focused ? state.filter : ""
        switch widget.kind {
        case .timeseries:
            Widgets.timeseries(widget, data.series[key] ?? [], start: data.start, end: data.end, in: inner, on: &canvas)
        case .sparkline: Widgets.sparkline(widget, data.series[key] ?? [], in: inner, on: &canvas)
        case .stat: Widgets.stat(widget, data.series[key] ?? [], in: inner, on: &canvas)
        case .gauge: Widgets.gauge(widget, data.series[key] ?? [], in: inner, on: &canvas)
        case .bar: Widgets.bar(widget, data.series[key] ?? [], in: inner, on: &canvas)
        case .table:
            Widgets.table(
                widget, data.tables[key] ?? [], filter: filter,
                sort: focused ? state.sortColumn ?? widget.sort : widget.sort, in: inner, on: &canvas)
        case .alarms: Widgets.alarms(widget, data.alarms, focused: focused, in: inner, on: &canvas)
        case .logs: Widgets.logs(widget, data.logs[key] ?? [], filter: filter, in: inner, on: &canvas)
        case .heatmap:
            Widgets.heatmap(widget, data.heatmaps[key] ?? [], start: data.start, end: data.end, in: inner, on: &canvas)
        case .text: Widgets.text(widget, in: inner, on: &canvas)
        }
    }
}
