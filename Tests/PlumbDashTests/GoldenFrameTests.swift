import Foundation
import PlumbDash
import PlumbMetrics
import PlumbTesting
import Testing

/// Each widget kind rendered from fixed data, compared cell by cell with a golden frame in `Golden/`: two sizes
/// with braille, ASCII (the fallback), block symbols, and a tiny terminal where widgets degrade. `UPDATE_GOLDEN=1`
/// rewrites the files (review the diff before committing).
@Suite("GoldenFrames")
struct GoldenFrameTests {
    static let directory = Checkout.root + "/Tests/PlumbDashTests/Golden"

    /// One dashboard with a page per widget kind (so each renders alone, full frame).
    static let yaml = """
        version: 1
        title: Golden
        range: 1h
        pages:
          - title: timeseries
            rows:
              - widgets:
                  - type: timeseries
                    title: Requests
                    unit: ms
                    thresholds: [{value: 80, color: red}]
                    queries:
                      - {id: a, metric: {namespace: T, name: A}, stat: Sum, label: ok}
                      - {id: b, metric: {namespace: T, name: B}, stat: Sum, label: errors}
          - title: sparkline
            rows:
              - widgets:
                  - {type: sparkline, title: Concurrency, queries: [{id: a, metric: {namespace: T, name: A}, stat: Sum}]}
          - title: stat
            rows:
              - widgets:
                  - {type: stat, title: Error rate, unit: "%", decimals: 1, thresholds: [{value: 1, color: yellow}, {value: 5, color: red}], queries: [{id: a, metric: {namespace: T, name: A}, stat: Sum}]}
          - title: gauge
            rows:
              - widgets:
                  - {type: gauge, title: Concurrency, max: 200, queries: [{id: a, metric: {namespace: T, name: A}, stat: Sum}]}
          - title: bar
            rows:
              - widgets:
                  - type: bar
                    title: Calls
                    queries:
                      - {id: a, metric: {namespace: T, name: A}, stat: Sum, label: predict}
                      - {id: b, metric: {namespace: T, name: B}, stat: Sum, label: train}
          - title: table
            rows:
              - widgets:
                  - type: table
                    title: Functions
                    namespace: Plumb/Functions
                    dimension: Function
                    columns: [{title: calls, metric: Invocations, stat: Sum}, {title: errors, metric: Errors, stat: Sum}, {title: p99 ms, metric: Duration, stat: p99}]
          - title: alarms
            rows:
              - widgets:
                  - {type: alarms, title: Alarms}
          - title: logs
            rows:
              - widgets:
                  - {type: logs, title: Log, log_group: /plumb/server}
          - title: heatmap
            rows:
              - widgets:
                  - {type: heatmap, title: Latency, metric: {namespace: T, name: D}}
          - title: text
            rows:
              - widgets:
                  - {type: text, title: Notes, text: "Runbook: if the error rate stays above 5 % for three minutes, roll back the last deploy and page the owner."}
        """

    static let end: Int64 = 1_800_003_600
    static let start: Int64 = 1_800_000_000

    /// Fixed data for every page's widget (keys are w<page>, one widget per page).
    static var data: DashData {
        var d = DashData(start: start, end: end)
        let times = stride(from: start, to: end, by: 60).map { $0 }
        let a = times.indices.map { 50 + 40 * sin(Double($0) / 6) }
        let b = times.indices.map { Double($0 % 10 == 0 ? 30 : 5) }
        d.series["w0"] = [
            .init(label: "ok", timestamps: times, values: a), .init(label: "errors", timestamps: times, values: b),
        ]
        d.series["w1"] = [.init(label: "a", timestamps: times, values: a)]
        d.series["w2"] = [.init(label: "a", timestamps: [end - 60], values: [3.25])]
        d.series["w3"] = [.init(label: "a", timestamps: [end - 60], values: [150])]
        d.series["w4"] = [
            .init(label: "predict", timestamps: [end - 60], values: [1200]),
            .init(label: "train", timestamps: [end - 60], values: [300]),
        ]
        d.tables["w5"] = [
            ("sentiment.classify", [5_400, 2, 12.5]), ("classifier.predict", [18_000, nil, 3.25]),
            ("chat.message", [900, 0, 41]),
        ]
        d.alarms = [
            .init(
                name: "functions-errors", state: "ALARM",
                reason: "Threshold Crossed: 2 out of the last 3 datapoints were greater than 0"),
            .init(name: "functions-throttled", state: "OK", reason: "ok"),
            .init(name: "sensors-no-data", state: "INSUFFICIENT_DATA", reason: "no data"),
            .init(
                name: "classifier-drift", state: "ALARM", reason: "drifted",
                silenced: "until 09:30 by user:ana (retraining)"),
        ]
        d.logs["w7"] = [
            .init(timestamp: (end - 30) * 1_000, message: "started plugin sentiment"),
            .init(timestamp: (end - 20) * 1_000, message: "warning: slow consumer closed"),
            .init(timestamp: (end - 10) * 1_000, message: "error: predict failed: model missing"),
        ]
        d.heatmaps["w8"] = times.enumerated().map { i, t in
            (
                t,
                [
                    (10, 1.0 + Double(i % 5)), (25, 2.0 + Double(i % 5)), (50, 4), (75, 8), (90, 20 + Double(i)),
                    (99, 80 + Double(i * 2)),
                ]
            )
        }
        return d
    }

    static let variants: [(name: String, width: Int, height: Int, symbols: GraphSymbols)] = [
        ("60x14-braille", 60, 14, .braille), ("32x8-braille", 32, 8, .braille), ("60x14-ascii", 60, 14, .ascii),
        ("60x14-block", 60, 14, .block), ("12x4-tiny", 12, 4, .braille),
    ]

    static func frame(
        page: Int, _ variant: (name: String, width: Int, height: Int, symbols: GraphSymbols)
    ) throws -> Canvas {
        let dashboard = try DashboardParser.parse(yaml, file: "golden.yaml", name: "golden")
        var state = ViewState()
        state.page = page
        return Renderer(dashboard: dashboard, symbols: variant.symbols).render(
            data, state: state, width: variant.width, height: variant.height, status: "status")
    }

    @Test("every widget kind matches its golden frame at each size and symbol set", arguments: Dashboard.Kind.allCases)
    func golden(_ kind: Dashboard.Kind) throws {
        let page = Dashboard.Kind.allCases.firstIndex(of: kind)!
        for variant in Self.variants {
            let canvas = try Self.frame(page: page, variant)
            #expect(canvas.width == variant.width && canvas.height == variant.height)
            let path = "\(Self.directory)/\(kind.rawValue)-\(variant.name).txt"
            let got = canvas.plainText
            if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
                try (got + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try #require(
                try? String(contentsOfFile: path, encoding: .utf8), "missing golden \(path) (run with UPDATE_GOLDEN=1)")
            let want = expected.hasSuffix("\n") ? String(expected.dropLast()) : expected
            // Cell by cell: the first difference is reported with its row and column.
            let (g, w) = (
                got.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init),
                want.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
            )
            var difference: String?
            for row in 0..<max(g.count, w.count) where difference == nil {
                let (a, b) = (row < g.count ? g[row] : [], row < w.count ? w[row] : [])
                for col in 0..<max(a.count, b.count)
                where (col < a.count ? a[col] : " ") != (col < b.count ? b[col] : " ") {
                    difference =
                        "row \(row + 1) column \(col + 1): got '\(col < a.count ? a[col] : " ")' expected '\(col < b.count ? b[col] : " ")'\n got: \(String(a))\nwant: \(String(b))"
                    break
                }
            }
            #expect(difference == nil, "\(kind.rawValue) \(variant.name): \(difference ?? "")")
            if variant.symbols == .ascii {
                let onlyASCII = got.unicodeScalars.allSatisfy { $0.isASCII }
                #expect(onlyASCII, "ASCII frames hold only ASCII")
            }
        }
    }

    @Test("what the frames show: values, threshold colours, the threshold line, the focused alarm's reason")
    func content() throws {
        let wide = (name: "w", width: 60, height: 14, symbols: GraphSymbols.braille)
        let stat = try Self.frame(page: 2, wide)
        #expect(stat.cells.contains { $0.tint == .warn }, "3.25 % is over the yellow threshold (1) and under red (5)")
        let small = try Self.frame(page: 2, (name: "s", width: 20, height: 5, symbols: .braille)).plainText
        #expect(small.contains("3.2%"), "\(small)")
        let table = try Self.frame(page: 5, wide).plainText
        #expect(table.contains("classifier.predict") && table.contains("18k") && table.contains("–"), "\(table)")
        // Sorted by the first column (calls), largest first: classifier.predict (18k) leads; by name, chat.message.
        var sorted = ViewState()
        sorted.page = 5
        sorted.sortColumn = 1
        let dashboard = try DashboardParser.parse(Self.yaml, file: "golden.yaml", name: "golden")
        let byCalls = Renderer(dashboard: dashboard, symbols: .braille).render(
            Self.data, state: sorted, width: 60, height: 14
        ).plainText.split(separator: "\n")
        #expect(
            byCalls[3].contains("classifier.predict") && byCalls[2].contains("calls▼"),
            "\(byCalls.joined(separator: "\n"))")
        #expect(table.split(separator: "\n")[3].contains("chat.message"), "by name without a sort")
        let alarms = try Self.frame(page: 6, wide).plainText
        let lines = alarms.split(separator: "\n")
        let alarmLine = try #require(
            lines.firstIndex { $0.contains("ALARM") && $0.contains("functions-errors") }, "\(alarms)")
        #expect(
            lines[alarmLine + 1].contains("Threshold Crossed"),
            "the focused widget shows the reason under an alarm in ALARM")
        #expect(
            lines.firstIndex { $0.contains("NO DATA") }! > alarmLine
                && lines.firstIndex { $0.contains("OK ") }! > lines.firstIndex { $0.contains("NO DATA") }!,
            "ALARM, then no data, then OK")
        // A silenced alarm is marked, and the focused widget says until when, by whom and why.
        let silencedLine = try #require(lines.firstIndex { $0.contains("classifier-drift") }, "\(alarms)")
        #expect(lines[silencedLine].contains("classifier-drift [silenced]"))
        #expect(lines[silencedLine + 2].contains("silenced until 09:30 by user:ana (retraining)"), "\(alarms)")
        #expect(!lines[alarmLine].contains("[silenced]"))
        // The chart: the ok series' dots span the plot; the threshold line (80) is red and above the series' mean.
        let chart = try Self.frame(page: 0, wide)
        #expect(chart.cells.contains { $0.tint == .bad && $0.character == "┄" })
        #expect(chart.plainText.contains("■ ok") && chart.plainText.contains("■ errors 5 ms"))
    }

    @Test("a tiny or zero-sized terminal never crashes and draws inside the frame")
    func tiny() throws {
        for (w, h) in [(0, 0), (1, 1), (3, 2), (5, 3), (200, 1), (1, 60)] {
            for page in 0..<Dashboard.Kind.allCases.count {
                let canvas = try Self.frame(page: page, (name: "t", width: w, height: h, symbols: .braille))
                #expect(canvas.width == w && canvas.height == h)
            }
        }
    }
}
