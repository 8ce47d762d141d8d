import Foundation
import Histogram

/// The report of a load test: a wrk-like text summary, a step table with the USL fit and terminal charts, and the
/// whole as JSON.
public enum Report {
    public static func text(_ o: LoadTest.Outcome) -> String {
        let s = o.scenario
        var out = ""
        let model: String
        switch s.path {
        case .http:
            model =
                s.isOpen
                ? "open model, \(s.stages.isEmpty ? "\(LoadTest.format(s.rate ?? 0)) req/s" : "ramping rate"), catch-up \(s.catchUp == 0 ? "unbounded" : "\(LoadTest.format(s.catchUp))×"), \(s.connections) connections"
                : "closed model, \(s.vus ?? 1) VUs, think \(ms(s.think * 1_000))"
        case .sensors: model = "\(s.detectors) detectors streaming \(LoadTest.format(s.perDetector)) readings/s each"
        case .chat:
            model =
                "\(s.clients) chat clients in rooms of \(s.roomSize), \(LoadTest.format(s.perClient)) messages/s each"
        }
        out +=
            "plumb load \(s.name): \(model), \(LoadTest.format(s.duration)) s (first \(LoadTest.format(s.warmup)) s warm-up, not counted) → \(s.target)\n"
        for step in o.steps {
            if o.steps.count > 1 { out += "\n\(LoadTest.levelName(s)) \(LoadTest.format(step.level)):\n" }
            out += summary(
                step.result, unit: s.path == .sensors ? "readings" : s.path == .chat ? "deliveries" : "requests")
        }
        if o.steps.count > 1 {
            out += "\n" + stepTable(o)
            if let usl = o.usl {
                out += String(
                    format: "\nUSL fit: λ = %.2f/s per unit, σ = %.4f (contention), κ = %.6f (coherency), R² = %.3f\n",
                    usl.lambda, usl.sigma, usl.kappa, usl.r2)
                out +=
                    usl.peak.isFinite
                    ? String(format: "peak at N* = √((1−σ)/κ) = %.1f ", usl.peak) + LoadTest.levelName(s)
                        + String(format: ", predicted peak throughput %.1f/s\n", usl.peakThroughput)
                    : "no coherency cost measured (κ = 0): throughput keeps rising toward λ/σ\n"
                let measured = o.steps.map { ($0.level, $0.result.throughput) }
                out += "\nthroughput vs \(LoadTest.levelName(s)) (● measured, · USL):\n"
                out += chart(
                    points: measured, curve: { usl.throughput($0) }, xLabel: LoadTest.levelName(s), yLabel: "/s")
                out += "\np99 latency (ms) vs throughput:\n"
                out += chart(
                    points: o.steps.map { ($0.result.throughput, $0.result.stats.summary()["p99"] ?? 0) }, curve: nil,
                    xLabel: "/s", yLabel: "ms")
            } else if let error = o.uslError {
                out += "\nno USL fit: \(error)\n"
            }
        }
        if !o.thresholds.isEmpty {
            out += "\nthresholds:\n"
            for (t, ok, measured) in o.thresholds {
                out += "  \(ok ? "✔" : "✘") \(t.description)  (measured \(String(format: "%.3f", measured)))\n"
            }
        }
        return out
    }

    static func ms(_ v: Double) -> String {
        v >= 1_000
            ? String(format: "%.2fs", v / 1_000)
            : v >= 1 ? String(format: "%.2fms", v) : String(format: "%.0fus", v * 1_000)
    }

    static func summary(_ r: RunResult, unit: String) -> String {
        let c = r.stats.summary(corrected: true)
        let u = r.stats.summary(corrected: false)
        var out = "  Latency        p50        p90        p99      p99.9     p99.99        max\n"
        for (name, m) in [("corrected", c), ("uncorrected", u)] {
            out += "  " + name.padding(toLength: 11, withPad: " ", startingAt: 0)
            for key in ["p50", "p90", "p99", "p99.9", "p99.99", "max"] {
                let text = m[key].map(ms) ?? "-"
                out += String(repeating: " ", count: max(1, 11 - text.count)) + text
            }
            out += "\n"
        }
        let st = r.stats
        out +=
            "  \(st.completed) \(unit) in \(String(format: "%.1f", r.seconds)) s, \(String(format: "%.1f", r.throughput))/s; "
            + "errors \(st.errors), unfinished \(st.unfinished) (\(String(format: "%.3f", st.errorRate * 100)) %)\n"
        out += "  sent \(bytes(st.bytesSent)), received \(bytes(st.bytesReceived))"
        if st.resent > 0 { out += "; \(st.resent) readings resent after lost connections" }
        if !st.statuses.isEmpty {
            out += "; statuses " + st.statuses.keys.sorted().map { "\($0)×\(st.statuses[$0]!)" }.joined(separator: " ")
        }
        out += "\n"
        for sample in st.errorSamples { out += "  error: \(sample)\n" }
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

    static func bytes(_ n: Int) -> String {
        n >= 1 << 20
            ? String(format: "%.1f MB", Double(n) / 1_048_576)
            : n >= 1 << 10 ? String(format: "%.1f KB", Double(n) / 1_024) : "\(n) B"
    }

    static func stepTable(_ o: LoadTest.Outcome) -> String {
        var out =
            "  \(LoadTest.levelName(o.scenario).padding(toLength: 10, withPad: " ", startingAt: 0)) throughput        p50        p99     errors\n"
        for step in o.steps {
            let m = step.result.stats.summary()
            out +=
                "  " + LoadTest.format(step.level).padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: " %10.1f ", step.result.throughput) + pad(m["p50"].map(ms) ?? "-", 10) + " "
                + pad(m["p99"].map(ms) ?? "-", 10)
                + String(format: " %10d\n", step.result.stats.errors)
        }
        return out
    }

    /// A 64×16 character scatter chart with axes; `curve` drawn with dots.
    static func chart(
        points: [(Double, Double)], curve: ((Double) -> Double)?, xLabel: String, yLabel: String
    ) -> String {
        let width = 64
        let height = 16
        guard let xMax = points.map(\.0).max(), xMax > 0 else { return "" }
        var yMax = points.map(\.1).max() ?? 1
        if let curve { for i in 0...width { yMax = max(yMax, curve(xMax * Double(i) / Double(width))) } }
        yMax = max(yMax * 1.05, 1e-9)
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width + 1), count: height + 1)
        if let curve {
            for i in 0...width {
                let y = curve(xMax * Double(i) / Double(width))
                let row = height - Int((y / yMax * Double(height)).rounded())
                if row >= 0 && row <= height { grid[row][i] = "·" }
            }
        }
        for (x, y) in points {
            let col = Int((x / xMax * Double(width)).rounded())
            let row = height - Int((y / yMax * Double(height)).rounded())
            if row >= 0 && row <= height && col >= 0 && col <= width { grid[row][col] = "●" }
        }
        var out = ""
        for (r, line) in grid.enumerated() {
            let label =
                r == 0
                ? String(format: "%9.1f", yMax)
                : r == height ? String(format: "%9.1f", 0.0) : String(repeating: " ", count: 9)
            out += label + " │" + String(line) + "\n"
        }
        out += String(repeating: " ", count: 10) + "└" + String(repeating: "─", count: width + 1) + "\n"
        out +=
            String(repeating: " ", count: 11) + "0" + String(repeating: " ", count: max(1, width - 12))
            + String(format: "%.1f ", xMax) + xLabel + "   (y: \(yLabel))\n"
        return out
    }
}
