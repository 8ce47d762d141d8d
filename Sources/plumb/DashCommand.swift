import ArgumentParser
import Foundation
import PlumbDash

#if canImport(Glibc)
import Glibc
#endif

/// `plumb dash NAME`: a dashboard file live in the terminal, or one frame with `--once`.
struct DashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dash",
        abstract: "Show a dashboard (dashboards/NAME.yaml) live in the terminal, or print one frame with --once.",
        discussion: """
            Keys: q quit · p pause · Tab/arrows focus · Enter zoom · [ ] shift the time window · 1–9 page · / filter the \
            focused table or log · s sort the focused table · + - refresh faster/slower · ? help.
            Graph symbols default to braille, or ASCII when the locale is not UTF-8 or TERM is dumb/linux. NO_COLOR \
            turns colours off. With --once and stdout not a terminal the frame is plain text.
            """)

    @OptionGroup var client: ClientOptions
    @Argument(help: "Dashboard name (a file in --dashboards) or a path to a .yaml file.") var name: String
    @Option(help: "Directory of dashboard files.") var dashboards = "./dashboards"
    @Option(name: .customLong("var"), help: "Set a variable: --var function=sentiment.analyze (repeatable).")
    var variables: [String] = []
    @Flag(help: "Print one frame and exit.") var once = false
    @Option(help: "Frame width for --once (default: the terminal's, else 120).") var width: Int?
    @Option(help: "Frame height for --once (default: the terminal's, else 40).") var height: Int?
    @Option(help: "Page to show first (1-based).") var page = 1
    @Option(help: "Graph symbols: braille, block or ascii (default: automatic).") var symbols: String?
    @Option(help: "Colours: dark, light or none (default: dark; none when NO_COLOR is set).") var theme: String?
    @Option(
        help:
            "Measure instead of showing: N refreshes (fetch and render at --width × --height); prints medians and API calls per refresh."
    )
    var bench: Int?
    @Flag(
        help:
            "Fetch every page once and list each widget with how many values it has to show; exit 1 when one shows no data."
    )
    var probe = false

    func run() async throws {
        let path = try Self.locate(name, in: dashboards)
        var overrides: [String: String] = [:]
        for v in variables {
            let parts = v.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--var takes NAME=VALUE, not '\(v)'") }
            overrides[String(parts[0])] = String(parts[1])
        }
        let environment = ProcessInfo.processInfo.environment
        let graph: GraphSymbols
        if let symbols {
            guard let g = GraphSymbols(rawValue: symbols) else {
                throw ValidationError("--symbols must be braille, block or ascii")
            }
            graph = g
        } else {
            graph = GraphSymbols.automatic(environment: environment)
        }
        var colours: Theme = environment["NO_COLOR"].map { $0.isEmpty ? .dark : .none } ?? .dark
        if let theme {
            guard let t = Theme(rawValue: theme) else { throw ValidationError("--theme must be dark, light or none") }
            colours = t
        }
        let dashboard: Dashboard
        do { dashboard = try DashboardParser.load(path: path, overrides: overrides) } catch let e as DashboardErrors {
            throw CLIError(e.description)
        }
        let fetcher = Fetcher(dashboard: dashboard, transport: HTTPTransport(client: client))
        let resolved = try await fetcher.resolveVariables { values in
            try DashboardParser.load(path: path, overrides: values)
        }
        var state = ViewState()
        state.page = max(0, min(page - 1, resolved.pages.count - 1))
        let size = Terminal.size()
        if probe {
            var empty: [String] = []
            for page in resolved.pages.indices {
                let data = await fetcher.fetch(page: page, end: Int64(Date().timeIntervalSince1970))
                for (index, widget) in resolved.widgets(page: page).enumerated() {
                    let values = WidgetProbe.values(widget, key: resolved.key(page: page, index: index), in: data)
                    let where_ =
                        "page \(page + 1) \(resolved.pages[page].title.isEmpty ? "" : "(\(resolved.pages[page].title)) ")\(widget.kind.rawValue) '\(widget.title)'"
                    print("\(where_): \(values.map { $0 == 0 ? "no data" : "\($0) values" } ?? "text")")
                    if values == 0 { empty.append(where_) }
                }
                if !data.problems.isEmpty { print("page \(page + 1): ⚠ " + data.problems.joined(separator: "; ")) }
            }
            if !empty.isEmpty { throw ExitCode(1) }
            return
        }
        if let bench {
            guard bench > 0 else { throw ValidationError("--bench takes a positive number of refreshes") }
            let (w, h) = (width ?? 200, height ?? 60)
            let renderer = Renderer(dashboard: resolved, symbols: graph)
            var fetches: [Double] = []
            var renders: [Double] = []
            var previous: Canvas?
            for _ in 0..<bench {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let data = await fetcher.fetch(page: state.page, end: Int64(Date().timeIntervalSince1970))
                let t1 = DispatchTime.now().uptimeNanoseconds
                let canvas = renderer.render(data, state: state, width: w, height: h)
                _ = canvas.diff(from: previous, theme: colours)
                previous = canvas
                let t2 = DispatchTime.now().uptimeNanoseconds
                fetches.append(Double(t1 - t0) / 1e6)
                renders.append(Double(t2 - t1) / 1e6)
            }
            fetches.sort()
            renders.sort()
            let calls = await fetcher.calls
            let widgets = renderer.widgets(page: state.page).count
            print("dash \(resolved.name): page \(state.page + 1), \(widgets) widgets, \(w)×\(h), \(bench) refreshes")
            print(
                String(
                    format: "  render + diff: median %.2f ms, p90 %.2f ms", renders[bench / 2],
                    renders[min(bench - 1, bench * 9 / 10)]))
            print(
                String(
                    format: "  fetch (all API calls of a refresh): median %.2f ms, p90 %.2f ms", fetches[bench / 2],
                    fetches[min(bench - 1, bench * 9 / 10)]))
            print(
                "  API calls per refresh: "
                    + calls.sorted { $0.key < $1.key }.map {
                        "\($0.key) \(String(format: "%.1f", Double($0.value) / Double(bench)))"
                    }.joined(separator: ", "))
            return
        }
        if once {
            let (w, h) = (width ?? size?.width ?? 120, height ?? size?.height ?? 40)
            guard w > 0, h > 0 else { throw ValidationError("--width and --height must be positive") }
            let data = await fetcher.fetch(page: state.page, end: Int64(Date().timeIntervalSince1970))
            let canvas = Renderer(dashboard: resolved, symbols: graph).render(
                data, state: state, width: w, height: h, status: Self.status(data))
            let tty = isatty(STDOUT_FILENO) == 1
            print(tty && colours != .none ? canvas.ansiText(theme: colours) : canvas.plainText)
            return
        }
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw ValidationError("the live dashboard needs a terminal; use --once for a single frame")
        }
        try await LiveDashboard(dashboard: resolved, fetcher: fetcher, symbols: graph, theme: colours, state: state)
            .run()
    }

    static func status(_ data: DashData) -> String {
        data.problems.isEmpty ? "" : "⚠ " + data.problems.joined(separator: "; ")
    }

    /// NAME, NAME.yaml in the directory, or the dashboards Plumb ships.
    static func locate(_ name: String, in directory: String) throws -> String {
        if name.hasSuffix(".yaml") || name.contains("/") {
            guard FileManager.default.fileExists(atPath: name) else {
                throw ValidationError("no dashboard file \(name)")
            }
            return name
        }
        var candidates = [directory + "/" + name + ".yaml"]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var dir = exe
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("dashboards/\(name).yaml").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates += ["/usr/local/share/plumb/dashboards/\(name).yaml", "/usr/share/plumb/dashboards/\(name).yaml"]
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        let known = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".yaml")
        }.map { String($0.dropLast(5)) }.sorted()
        throw ValidationError(
            "no dashboard '\(name)' in \(directory)"
                + (known.isEmpty ? "" : " (there: \(known.joined(separator: ", ")))"))
    }
}

struct HTTPTransport: DashTransport {
    let client: ClientOptions

    func send(_ method: String, _ path: String, body: [UInt8]?) async throws -> [UInt8] {
        try await client.request(method == "POST" ? .POST : .GET, path, body: body).body
    }
}

/// The terminal: size, raw mode, alternate screen.
enum Terminal {
    static func size() -> (width: Int, height: Int)? {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0, w.ws_row > 0 else { return nil }
        return (Int(w.ws_col), Int(w.ws_row))
    }

    /// Whether the locale and TERM can show UTF-8 (the QR code, word cloud bars and dashboards fall back to ASCII).
    static var showsUnicode: Bool { GraphSymbols.automatic(environment: ProcessInfo.processInfo.environment) != .ascii }

    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if n <= 0 { break }
            offset += n
        }
        bytes.removeAll()
    }
}

/// The live view: raw mode and the alternate screen, keys read on a thread, a frame diffed against the last one.
final class LiveDashboard: @unchecked Sendable {
    let dashboard: Dashboard
    let fetcher: Fetcher
    let renderer: Renderer
    let theme: Theme
    var state: ViewState
    var refresh: Double
    var editingFilter = false
    var saved = termios()

    init(dashboard: Dashboard, fetcher: Fetcher, symbols: GraphSymbols, theme: Theme, state: ViewState) {
        self.dashboard = dashboard
        self.fetcher = fetcher
        self.renderer = Renderer(dashboard: dashboard, symbols: symbols)
        self.theme = theme
        self.state = state
        self.refresh = dashboard.refresh
    }

    func enterRawMode() {
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        raw.c_cc.6 = 0  // VMIN
        raw.c_cc.5 = 1  // VTIME: reads return after 0.1 s
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        Terminal.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[2J")
    }

    func leaveRawMode() {
        Terminal.write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
    }

    /// Keys as they come: bytes read with a 0.1 s timeout, escape sequences kept together.
    func readKeys() -> [String] {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(STDIN_FILENO, &buffer, 64)
        guard n > 0 else { return [] }
        var keys: [String] = []
        var i = 0
        while i < n {
            if buffer[i] == 0x1B, i + 2 < n, buffer[i + 1] == UInt8(ascii: "[") {
                keys.append(String(decoding: buffer[i..<(i + 3)], as: UTF8.self))
                i += 3
            } else {
                keys.append(String(decoding: buffer[i..<(i + 1)], as: UTF8.self))
                i += 1
            }
        }
        return keys
    }

    func run() async throws {
        enterRawMode()
        defer { leaveRawMode() }
        var previous: Canvas?
        var data = await fetcher.fetch(page: state.page, end: Int64(Date().timeIntervalSince1970) - state.shift)
        // When each widget of the page was last fetched: a widget's own `refresh` or the dashboard's decides when
        // it is due; the due ones share one batch.
        var fetched: [String: Date] = [:]
        func pageKeys() -> [(String, Dashboard.Widget)] {
            renderer.widgets(page: state.page).enumerated().map { (renderer.key(page: state.page, index: $0), $1) }
        }
        for (key, _) in pageKeys() { fetched[key] = Date() }
        var lastSize = Terminal.size() ?? (80, 24)
        var dirty = true
        while true {
            for key in readKeys() {
                if handle(key) { return }
                dirty = true
            }
            let size = Terminal.size() ?? lastSize
            if size != lastSize {
                lastSize = size
                previous = nil
                Terminal.write("\u{1B}[2J")
                dirty = true
            }
            let now = Date()
            let due =
                needsRefetch
                ? pageKeys()
                : state.paused
                    ? []
                    : pageKeys().filter { key, widget in
                        now.timeIntervalSince(fetched[key] ?? .distantPast) >= (widget.refresh ?? refresh)
                    }
            if !due.isEmpty {
                let keys = Set(due.map(\.0))
                let end = Int64(now.timeIntervalSince1970) - state.shift
                if needsRefetch {
                    data = await fetcher.fetch(page: state.page, end: end)
                } else {
                    data.merge(
                        await fetcher.fetch(page: state.page, end: end, only: keys), keys: keys,
                        alarms: due.contains { $0.1.kind == .alarms })
                }
                for key in keys { fetched[key] = now }
                needsRefetch = false
                dirty = true
            }
            if dirty {
                let status =
                    (data.problems.isEmpty ? "" : "⚠ " + data.problems.joined(separator: "; ") + "   ")
                    + (editingFilter
                        ? "/\(state.filter)▏ (Enter apply, Esc clear)"
                        : "refresh \(LiveDashboard.seconds(refresh))  ? help")
                let canvas = renderer.render(
                    data, state: state, width: lastSize.width, height: lastSize.height, status: status)
                Terminal.write(canvas.diff(from: previous, theme: theme))
                previous = canvas
                dirty = false
            }
        }
    }

    var needsRefetch = false

    static func seconds(_ s: Double) -> String {
        s < 1 ? "\(Int(s * 1_000))ms" : s == s.rounded() ? "\(Int(s))s" : String(format: "%.1fs", s)
    }

    /// Applies one key; true to quit.
    func handle(_ key: String) -> Bool {
        let count = renderer.widgets(page: state.page).count
        if editingFilter {
            switch key {
            case "\r", "\n": editingFilter = false
            case "\u{1B}":
                editingFilter = false
                state.filter = ""
            case "\u{7F}", "\u{08}": if !state.filter.isEmpty { state.filter.removeLast() }
            default: if key.count == 1, let c = key.unicodeScalars.first, c.value >= 0x20 { state.filter += key }
            }
            return false
        }
        if state.help, key != "?" {
            state.help = false
            return key == "q"
        }
        switch key {
        case "q", "\u{03}": return true
        case "p": state.paused.toggle()
        case "s":
            // Cycles the focused table's sort: name, then each column.
            let widgets = renderer.widgets(page: state.page)
            if widgets.indices.contains(state.focus), widgets[state.focus].kind == .table {
                let columns = widgets[state.focus].columns.count
                state.sortColumn = ((state.sortColumn ?? widgets[state.focus].sort ?? 0) + 1) % (columns + 1)
            }
        case "?": state.help.toggle()
        case "\t", "\u{1B}[C", "\u{1B}[B": if count > 0 { state.focus = (state.focus + 1) % count }
        case "\u{1B}[Z", "\u{1B}[D", "\u{1B}[A": if count > 0 { state.focus = (state.focus + count - 1) % count }
        case "\r", "\n": state.zoomed.toggle()
        case "\u{1B}":
            state.zoomed = false
            state.filter = ""
        case "/":
            editingFilter = true
            state.filter = ""
        case "[":
            state.shift += dashboard.range / 2
            needsRefetch = true
        case "]":
            state.shift = max(0, state.shift - dashboard.range / 2)
            needsRefetch = true
        case "+": refresh = max(1, refresh / 2)
        case "-": refresh = min(3_600, refresh * 2)
        default:
            if let n = Int(key), n >= 1, n <= dashboard.pages.count, n - 1 != state.page {
                state.page = n - 1
                state.focus = 0
                state.zoomed = false
                state.filter = ""
                state.sortColumn = nil
                needsRefetch = true
            }
        }
        return false
    }
}
