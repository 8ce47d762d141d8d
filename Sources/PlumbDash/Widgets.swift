import Foundation
import PlumbAPI

/// The widget kinds, each drawn inside its rectangle (the border is already there). Every one degrades on a small
/// rectangle instead of drawing outside it.
enum Widgets {
    static func noData(_ rect: Rect, on canvas: inout Canvas) {
        canvas.text(
            rect.x, rect.y + rect.height / 2, String(repeating: " ", count: max(0, (rect.width - 7) / 2)) + "no data",
            .dim, maxWidth: rect.width, clip: rect)
    }

    static func thresholdTint(_ value: Double, _ thresholds: [Dashboard.Threshold]) -> Tint {
        var tint: Tint = .good
        for t in thresholds.sorted(by: { $0.value < $1.value }) where value >= t.value { tint = t.tint }
        return thresholds.isEmpty ? .plain : tint
    }

    // MARK: timeseries

    /// Dots per cell of each symbol set.
    static func resolution(_ symbols: GraphSymbols) -> (x: Int, y: Int) {
        switch symbols {
        case .braille: (2, 4)
        case .block: (1, 2)
        case .ascii: (1, 1)
        }
    }

    /// A dot grid drawn into cells: braille patterns, half blocks or ASCII.
    struct Dots {
        let width: Int, height: Int, sx: Int, sy: Int
        var bits: [UInt8]
        var tints: [Tint?]

        init(cells: Rect, symbols: GraphSymbols) {
            (sx, sy) = Widgets.resolution(symbols)
            width = cells.width * sx
            height = cells.height * sy
            bits = Array(repeating: 0, count: cells.width * cells.height)
            tints = Array(repeating: nil, count: cells.width * cells.height)
        }

        mutating func set(_ x: Int, _ y: Int, _ tint: Tint) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let cw = width / sx
            let cell = (y / sy) * cw + x / sx
            let (dx, dy) = (x % sx, y % sy)
            let bit: UInt8
            if sx == 2 {
                // Braille: dots 1,2,3,7 in the left column, 4,5,6,8 in the right.
                bit = dx == 0 ? [0x01, 0x02, 0x04, 0x40][dy] : [0x08, 0x10, 0x20, 0x80][dy]
            } else {
                bit = UInt8(1 << dy)
            }
            bits[cell] |= bit
            tints[cell] = tint
        }

        mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ tint: Tint) {
            var (x, y) = (x0, y0)
            let dx = abs(x1 - x0)
            let dy = -abs(y1 - y0)
            let stepX = x0 < x1 ? 1 : -1
            let stepY = y0 < y1 ? 1 : -1
            var err = dx + dy
            while true {
                set(x, y, tint)
                if x == x1 && y == y1 { break }
                let e2 = 2 * err
                if e2 >= dy {
                    err += dy
                    x += stepX
                }
                if e2 <= dx {
                    err += dx
                    y += stepY
                }
            }
        }

        func draw(at rect: Rect, symbols: GraphSymbols, on canvas: inout Canvas) {
            let cw = width / sx
            for (i, b) in bits.enumerated() where b != 0 {
                let c: Character
                switch symbols {
                case .braille: c = Character(Unicode.Scalar(0x2800 + UInt32(b))!)
                case .block: c = b == 3 ? "█" : b == 1 ? "▀" : "▄"
                case .ascii: c = "*"
                }
                canvas.put(rect.x + i % cw, rect.y + i / cw, c, tints[i] ?? .plain, clip: rect)
            }
        }
    }

    static func timeseries(
        _ w: Dashboard.Widget, _ series: [DashData.Series], start: Int64, end: Int64, in rect: Rect,
        on canvas: inout Canvas
    ) {
        let present = series.filter { !$0.values.isEmpty }
        guard !present.isEmpty else { return noData(rect, on: &canvas) }
        // Tiny: the latest value of each series on one line each.
        if rect.height < 4 || rect.width < 16 {
            for (i, s) in present.prefix(rect.height).enumerated() {
                canvas.text(
                    rect.x, rect.y + i,
                    "\(s.label) \(Format.value(s.latest ?? .nan, unit: w.unit, decimals: w.decimals))",
                    Tint.series[i % 6], maxWidth: rect.width, clip: rect)
            }
            return
        }
        let all = present.flatMap(\.values) + w.thresholds.map(\.value)
        var lo = w.yMin ?? min(0, all.min() ?? 0)
        var hi = w.yMax ?? (all.max() ?? 1)
        if hi <= lo { hi = lo + 1 }
        if w.yMax == nil { hi += (hi - lo) * 0.05 }
        if w.yMin == nil, lo < 0 { lo -= (hi - lo) * 0.05 }
        let labels = [hi, (hi + lo) / 2, lo].map { Format.value($0, unit: "", decimals: w.decimals) }
        let axis = min(max(labels.map(\.count).max() ?? 1, 1) + 1, rect.width / 3)
        let legendRows = rect.height >= 8 ? 1 : 0
        let plot = Rect(
            x: rect.x + axis + 1, y: rect.y, width: rect.width - axis - 1, height: rect.height - 1 - legendRows)
        guard plot.width > 1, plot.height > 0 else { return }
        // The y axis: labels at top, middle and bottom, a rule beside them.
        let ascii = canvas.symbols == .ascii
        for y in plot.y..<(plot.y + plot.height) { canvas.put(plot.x - 1, y, ascii ? "|" : "│", .dim) }
        canvas.text(
            rect.x, plot.y, String(repeating: " ", count: max(0, axis - labels[0].count)) + labels[0], .dim,
            maxWidth: axis)
        if plot.height >= 3 {
            canvas.text(
                rect.x, plot.y + plot.height / 2,
                String(repeating: " ", count: max(0, axis - labels[1].count)) + labels[1], .dim, maxWidth: axis)
        }
        canvas.text(
            rect.x, plot.y + plot.height - 1, String(repeating: " ", count: max(0, axis - labels[2].count)) + labels[2],
            .dim, maxWidth: axis)
        // The x axis: start and end times.
        let xAxisY = plot.y + plot.height
        canvas.put(plot.x - 1, xAxisY, ascii ? "+" : "└", .dim)
        for x in plot.x..<(plot.x + plot.width) { canvas.put(x, xAxisY, ascii ? "-" : "─", .dim) }
        let (startLabel, endLabel) = (Format.clock(start), Format.clock(end))
        canvas.text(plot.x, xAxisY, startLabel, .dim, clip: rect)
        if plot.width > startLabel.count + endLabel.count + 2 {
            canvas.text(plot.x + plot.width - endLabel.count, xAxisY, endLabel, .dim, clip: rect)
        }
        var dots = Dots(cells: plot, symbols: canvas.symbols)
        let span = Double(max(1, end - start))
        func px(_ t: Int64) -> Int { Int((Double(t - start) / span * Double(dots.width - 1)).rounded()) }
        func py(_ v: Double) -> Int {
            Int(((hi - min(max(v, lo), hi)) / (hi - lo) * Double(dots.height - 1)).rounded())
        }
        // Thresholds: a dashed line under the data.
        for t in w.thresholds where t.value >= lo && t.value <= hi {
            let y = plot.y + py(t.value) / dots.sy
            for x in stride(from: plot.x, to: plot.x + plot.width, by: 2) {
                canvas.put(x, y, ascii ? "." : "┄", t.tint)
            }
        }
        for (i, s) in present.enumerated() {
            let tint = Tint.series[i % 6]
            var previous: (Int, Int)?
            for (t, v) in zip(s.timestamps, s.values) {
                let point = (px(t), py(v))
                if let p = previous {
                    dots.line(p.0, p.1, point.0, point.1, tint)
                } else {
                    dots.set(point.0, point.1, tint)
                }
                previous = point
            }
        }
        dots.draw(at: plot, symbols: canvas.symbols, on: &canvas)
        if legendRows > 0 {
            var x = rect.x
            let y = rect.y + rect.height - 1
            for (i, s) in present.enumerated() {
                let entry =
                    "\(ascii ? "*" : "■") \(s.label) \(Format.value(s.latest ?? .nan, unit: w.unit, decimals: w.decimals))  "
                guard x + 3 < rect.x + rect.width else { break }
                canvas.text(x, y, entry, Tint.series[i % 6], maxWidth: rect.x + rect.width - x, clip: rect)
                x += entry.count
            }
        }
    }

    // MARK: sparkline, stat, gauge, bar

    static func sparkline(_ w: Dashboard.Widget, _ series: [DashData.Series], in rect: Rect, on canvas: inout Canvas) {
        guard let s = series.first(where: { !$0.values.isEmpty }) else { return noData(rect, on: &canvas) }
        let latest = Format.value(s.latest ?? .nan, unit: w.unit, decimals: w.decimals)
        let tint = thresholdTint(s.latest ?? 0, w.thresholds)
        let levels: [Character] =
            canvas.symbols == .ascii
            ? ["_", ".", "-", "~", "=", "^", "*", "#"] : ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let graphWidth = max(0, rect.width - latest.count - 1)
        let values = Array(s.values.suffix(graphWidth))
        let (lo, hi) = (values.min() ?? 0, values.max() ?? 1)
        let y = rect.y + (rect.height - 1) / 2
        for (i, v) in values.enumerated() {
            let level = hi > lo ? Int(((v - lo) / (hi - lo) * 7).rounded()) : 3
            canvas.put(rect.x + i, y, levels[level], .series1, clip: rect)
        }
        canvas.text(
            rect.x + rect.width - latest.count, y, latest, tint == .plain ? .plain : tint, bold: true, clip: rect)
    }

    /// 3×5 digits for the big number of a stat.
    static let bigDigits: [Character: [String]] = [
        "0": ["███", "█ █", "█ █", "█ █", "███"], "1": [" █ ", "██ ", " █ ", " █ ", "███"],
        "2": ["███", "  █", "███", "█  ", "███"],
        "3": ["███", "  █", "███", "  █", "███"], "4": ["█ █", "█ █", "███", "  █", "  █"],
        "5": ["███", "█  ", "███", "  █", "███"],
        "6": ["███", "█  ", "███", "█ █", "███"], "7": ["███", "  █", "  █", "  █", "  █"],
        "8": ["███", "█ █", "███", "█ █", "███"],
        "9": ["███", "█ █", "███", "  █", "███"], ".": ["   ", "   ", "   ", "   ", " █ "],
        "-": ["   ", "   ", "███", "   ", "   "],
        "k": ["█  ", "█ █", "██ ", "█ █", "█ █"], "M": ["█ █", "███", "█ █", "█ █", "█ █"],
        "G": ["███", "█  ", "█ █", "█ █", "███"],
        "%": ["█ █", "  █", " █ ", "█  ", "█ █"],
    ]

    static func stat(_ w: Dashboard.Widget, _ series: [DashData.Series], in rect: Rect, on canvas: inout Canvas) {
        guard let value = series.first(where: { !$0.values.isEmpty })?.latest else { return noData(rect, on: &canvas) }
        let tint = thresholdTint(value, w.thresholds)
        let number = Format.value(value, unit: "", decimals: w.decimals)
        let unit = w.unit
        let bigWidth = number.count * 4 - 1
        if rect.height >= 6, rect.width >= bigWidth + 2, number.allSatisfy({ bigDigits[$0] != nil }) {
            let top = rect.y + (rect.height - 6) / 2
            let left = rect.x + (rect.width - bigWidth) / 2
            for (i, c) in number.enumerated() {
                for (row, line) in bigDigits[c]!.enumerated() {
                    for (k, ch) in line.enumerated() where ch != " " {
                        canvas.put(
                            left + i * 4 + k, top + row, canvas.symbols == .ascii ? "#" : ch,
                            tint == .plain ? .accent : tint, bold: true, clip: rect)
                    }
                }
            }
            if !unit.isEmpty {
                canvas.text(
                    rect.x + max(0, (rect.width - unit.count) / 2), top + 5, unit, .dim, maxWidth: rect.width,
                    clip: rect)
            }
            return
        }
        let text = unit.isEmpty ? number : (unit == "%" ? number + "%" : number + " " + unit)
        canvas.text(
            rect.x + max(0, (rect.width - text.count) / 2), rect.y + (rect.height - 1) / 2, text,
            tint == .plain ? .accent : tint, bold: true, maxWidth: rect.width, clip: rect)
    }

    static func gauge(_ w: Dashboard.Widget, _ series: [DashData.Series], in rect: Rect, on canvas: inout Canvas) {
        guard let value = series.first(where: { !$0.values.isEmpty })?.latest else { return noData(rect, on: &canvas) }
        let fraction = min(max(value / max(w.max, 1e-12), 0), 1)
        let label = Format.value(value, unit: w.unit, decimals: w.decimals)
        let barWidth = max(0, rect.width - label.count - 1)
        let filled = Int((fraction * Double(barWidth)).rounded())
        let tint =
            w.thresholds.isEmpty
            ? (fraction >= 0.9 ? Tint.bad : fraction >= 0.7 ? .warn : .good) : thresholdTint(value, w.thresholds)
        let y = rect.y + (rect.height - 1) / 2
        let (full, empty): (Character, Character) = canvas.symbols == .ascii ? ("#", ".") : ("█", "░")
        for i in 0..<barWidth {
            canvas.put(rect.x + i, y, i < filled ? full : empty, i < filled ? tint : .dim, clip: rect)
        }
        canvas.text(rect.x + rect.width - label.count, y, label, .plain, bold: true, clip: rect)
    }

    static func bar(_ w: Dashboard.Widget, _ series: [DashData.Series], in rect: Rect, on canvas: inout Canvas) {
        let items = series.compactMap { s in s.latest.map { (s.label, $0) } }
        guard !items.isEmpty else { return noData(rect, on: &canvas) }
        let top = max(items.map { abs($0.1) }.max() ?? 1, 1e-12)
        let labelWidth = min(items.map(\.0.count).max() ?? 0, rect.width / 3)
        for (i, (label, value)) in items.prefix(rect.height).enumerated() {
            let y = rect.y + i
            canvas.text(rect.x, y, label, .plain, maxWidth: labelWidth, clip: rect)
            let text = Format.value(value, unit: w.unit, decimals: w.decimals)
            let barWidth = max(0, rect.width - labelWidth - text.count - 2)
            let n = Int((abs(value) / top * Double(barWidth)).rounded())
            for k in 0..<n {
                canvas.put(
                    rect.x + labelWidth + 1 + k, y, canvas.symbols == .ascii ? "=" : "█", Tint.series[i % 6], clip: rect
                )
            }
            canvas.text(rect.x + labelWidth + 2 + n, y, text, .plain, clip: rect)
        }
    }

    // MARK: table, alarms, logs, text

    static func table(
        _ w: Dashboard.Widget, _ rows: [(String, [Double?])], filter: String, sort: Int?, in rect: Rect,
        on canvas: inout Canvas
    ) {
        var shown = filter.isEmpty ? rows : rows.filter { $0.0.localizedCaseInsensitiveContains(filter) }
        // Sorted by a column, largest first (missing last), or by name.
        if let sort, sort > 0, sort <= w.columns.count {
            shown.sort { ($0.1[sort - 1] ?? -.infinity, $1.0) > ($1.1[sort - 1] ?? -.infinity, $0.0) }
        } else {
            shown.sort { $0.0 < $1.0 }
        }
        var headers = [w.dimension] + w.columns.map(\.title)
        if let sort, headers.indices.contains(sort) { headers[sort] += canvas.symbols == .ascii ? "v" : "▼" }
        let cells = shown.map { [$0.0] + $0.1.map { $0.map { Format.value($0, decimals: w.decimals) } ?? "–" } }
        var widths = headers.indices.map { c in max(headers[c].count, cells.map { $0[c].count }.max() ?? 0) }
        // Narrow the first column, then drop columns from the right, until the table fits.
        while widths.reduce(0, +) + widths.count - 1 > rect.width, widths[0] > 6 { widths[0] -= 1 }
        var columns = headers.count
        while columns > 1, widths.prefix(columns).reduce(0, +) + columns - 1 > rect.width { columns -= 1 }
        func line(_ values: [String], _ y: Int, _ tint: Tint, bold: Bool) {
            var x = rect.x
            for c in 0..<columns {
                let text = values[c]
                let padded = c == 0 ? text : String(repeating: " ", count: max(0, widths[c] - text.count)) + text
                canvas.text(
                    x, y, padded, tint, bold: bold, maxWidth: min(widths[c], rect.x + rect.width - x), clip: rect)
                x += widths[c] + 1
            }
        }
        line(headers, rect.y, .accent, bold: true)
        if cells.isEmpty {
            canvas.text(
                rect.x, rect.y + 1, filter.isEmpty ? "no rows" : "no row matches '\(filter)'", .dim,
                maxWidth: rect.width, clip: rect)
        }
        for (i, row) in cells.prefix(max(0, rect.height - 1)).enumerated() {
            line(row, rect.y + 1 + i, .plain, bold: false)
        }
    }

    static func alarms(
        _ w: Dashboard.Widget, _ alarms: [DashData.Alarm], focused: Bool, in rect: Rect, on canvas: inout Canvas
    ) {
        let shown = alarms.filter { w.prefix.isEmpty || $0.name.hasPrefix(w.prefix) }
            .sorted { (rank($0.state), $0.name) < (rank($1.state), $1.name) }
        guard !shown.isEmpty else {
            return canvas.text(rect.x, rect.y, "no alarms", .dim, maxWidth: rect.width, clip: rect)
        }
        let stateWidth = 8
        var y = rect.y
        for alarm in shown {
            guard y < rect.y + rect.height else { break }
            let tint: Tint = alarm.state == "ALARM" ? .bad : alarm.state == "OK" ? .good : .dim
            let label = alarm.state == "INSUFFICIENT_DATA" ? "NO DATA" : alarm.state
            canvas.text(rect.x, y, label, tint, bold: alarm.state == "ALARM", maxWidth: stateWidth, clip: rect)
            let nameWidth = rect.width - stateWidth - 1
            canvas.text(rect.x + stateWidth + 1, y, alarm.name, .plain, maxWidth: nameWidth, clip: rect)
            // A silenced alarm is marked after its name: its notifications are held.
            if alarm.silenced != nil, alarm.name.count + 2 < nameWidth {
                let x = rect.x + stateWidth + 1 + alarm.name.count + 1
                canvas.text(x, y, "[silenced]", .dim, maxWidth: nameWidth - alarm.name.count - 1, clip: rect)
            }
            y += 1
            // With focus, the reason of each alarm in ALARM follows it, and a silence says until when and why.
            if focused, alarm.state == "ALARM", y < rect.y + rect.height {
                canvas.text(
                    rect.x + stateWidth + 3, y, alarm.reason, .dim, maxWidth: rect.width - stateWidth - 3, clip: rect)
                y += 1
            }
            if focused, let silenced = alarm.silenced, y < rect.y + rect.height {
                canvas.text(
                    rect.x + stateWidth + 3, y, "silenced " + silenced, .dim, maxWidth: rect.width - stateWidth - 3,
                    clip: rect)
                y += 1
            }
        }
    }

    static func rank(_ state: String) -> Int { state == "ALARM" ? 0 : state == "INSUFFICIENT_DATA" ? 1 : 2 }

    static func logs(
        _ w: Dashboard.Widget, _ lines: [DashData.LogLine], filter: String, in rect: Rect, on canvas: inout Canvas
    ) {
        let shown =
            filter.isEmpty ? lines : lines.filter { readable($0.message).localizedCaseInsensitiveContains(filter) }
        guard !shown.isEmpty else {
            return canvas.text(
                rect.x, rect.y, filter.isEmpty ? "no log events" : "no event matches '\(filter)'", .dim,
                maxWidth: rect.width, clip: rect)
        }
        let wide = rect.width >= 30
        for (i, line) in shown.suffix(rect.height).enumerated() {
            let y = rect.y + i
            var x = rect.x
            if wide {
                canvas.text(x, y, Format.clockSeconds(line.timestamp / 1_000), .dim, clip: rect)
                x += 9
            }
            let message = readable(line.message).replacingOccurrences(of: "\n", with: " ")
            let tint: Tint =
                message.localizedCaseInsensitiveContains("error")
                ? .bad : message.localizedCaseInsensitiveContains("warn") ? .warn : .plain
            canvas.text(x, y, message, tint, maxWidth: rect.x + rect.width - x, clip: rect)
        }
    }

    /// A structured (JSON) log event as `LEVEL message`, anything else as it is. A message is free-form text: it is
    /// read as a JSON object only to pick these two members.
    static func readable(_ message: String) -> String {
        guard message.first == "{",
            let object = (try? JSONDecoder().decode(JSONValue.self, from: Data(message.utf8)))?.object,
            let text = object["message"]?.string
        else { return message }
        let level = object["level"]?.string.map { $0.uppercased() + " " } ?? ""
        return level + text
    }

    static func text(_ w: Dashboard.Widget, in rect: Rect, on canvas: inout Canvas) {
        var lines: [String] = []
        for paragraph in w.text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ") {
                if current.isEmpty {
                    current = String(word)
                } else if current.count + 1 + word.count <= rect.width {
                    current += " " + word
                } else {
                    lines.append(current)
                    current = String(word)
                }
            }
            lines.append(current)
        }
        for (i, line) in lines.prefix(rect.height).enumerated() {
            canvas.text(rect.x, rect.y + i, line, maxWidth: rect.width, clip: rect)
        }
    }

    // MARK: heatmap

    /// Latency distribution over time from per-period percentiles: each column is a period, each row a band of
    /// values (log scale); the shade is the share of the period's samples in the band (read off the percentiles,
    /// linear between them).
    static func heatmap(
        _ w: Dashboard.Widget, _ columns: [(Int64, [(Double, Double)])], start: Int64, end: Int64, in rect: Rect,
        on canvas: inout Canvas
    ) {
        let usable = columns.filter { $0.1.count >= 2 }
        guard !usable.isEmpty, rect.width > 8, rect.height > 1 else { return noData(rect, on: &canvas) }
        let values = usable.flatMap { $0.1.map(\.1) }.filter { $0 > 0 }
        let lo = max(values.min() ?? 1, 1e-9)
        let hi = max(values.max() ?? 1, lo * 1.0001)
        let labelWidth = 7
        let plot = Rect(x: rect.x + labelWidth, y: rect.y, width: rect.width - labelWidth, height: rect.height - 1)
        guard plot.width > 0, plot.height > 0 else { return }
        let shades: [Character] = canvas.symbols == .ascii ? [" ", ".", ":", "*", "#"] : [" ", "░", "▒", "▓", "█"]
        func band(_ row: Int) -> (Double, Double) {
            let (a, b) = (log(lo), log(hi))
            let top = exp(b - (b - a) * Double(row) / Double(plot.height))
            let bottom = exp(b - (b - a) * Double(row + 1) / Double(plot.height))
            return (bottom, top)
        }
        /// The share of samples at or below `x`, from the percentile points.
        func cdf(_ points: [(Double, Double)], _ x: Double) -> Double {
            let sorted = points.sorted { $0.1 < $1.1 }
            guard let first = sorted.first, let last = sorted.last else { return 0 }
            if x <= first.1 { return first.0 / 100 * (x >= first.1 ? 1 : 0) }
            if x >= last.1 { return last.0 / 100 }
            for (p, q) in zip(sorted, sorted.dropFirst()) where x >= p.1 && x <= q.1 {
                let f = q.1 > p.1 ? (x - p.1) / (q.1 - p.1) : 1
                return (p.0 + (q.0 - p.0) * f) / 100
            }
            return last.0 / 100
        }
        let span = Double(max(1, end - start))
        for (t, points) in usable {
            let x = plot.x + min(plot.width - 1, Int(Double(t - start) / span * Double(plot.width)))
            for row in 0..<plot.height {
                let (a, b) = band(row)
                let share = max(0, cdf(points, b) - cdf(points, a))
                let level = share <= 0 ? 0 : min(4, 1 + Int(share * 8))
                if level > 0 { canvas.put(x, plot.y + row, shades[level], level >= 3 ? .warn : .accent, clip: rect) }
            }
        }
        canvas.text(rect.x, plot.y, Format.value(hi, decimals: nil), .dim, maxWidth: labelWidth - 1)
        canvas.text(rect.x, plot.y + plot.height - 1, Format.value(lo, decimals: nil), .dim, maxWidth: labelWidth - 1)
        canvas.text(plot.x, rect.y + rect.height - 1, Format.clock(start), .dim, clip: rect)
        let endLabel = Format.clock(end)
        if plot.width > 12 {
            canvas.text(plot.x + plot.width - endLabel.count, rect.y + rect.height - 1, endLabel, .dim, clip: rect)
        }
    }
}
