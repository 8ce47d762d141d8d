import Foundation
import PlumbAPI

/// Renders the factory's metrics in the Prometheus text exposition format (version 0.0.4).
///
/// Counters (whole or fractional) become `<name>_total` counters, gauges gauges, recorders and timers summaries (timers in
/// seconds, `<name>_seconds`) with quantiles 0.5, 0.9, 0.99 over everything recorded since start.
public enum PrometheusExposition {
    public static func render(_ factory: PlumbMetricsFactory) -> String {
        var families: [String: (type: String, help: String, lines: [String])] = [:]
        func add(_ name: String, _ type: String, _ help: String, _ line: String) {
            families[name, default: (type, help, [])].lines.append(line)
        }
        for counter in factory.allCounters {
            let name = metricName(counter.id.label) + "_total"
            add(
                name, "counter", "Total of \(counter.id.label).",
                "\(name)\(labels(counter.id.dimensions)) \(counter.total)")
        }
        for counter in factory.allFloatingCounters {
            let name = metricName(counter.id.label) + "_total"
            add(
                name, "counter", "Total of \(counter.id.label).",
                "\(name)\(labels(counter.id.dimensions)) \(number(counter.total))")
        }
        for recorder in factory.allRecorders {
            let base = metricName(recorder.id.label)
            switch recorder.kind {
            case .gauge:
                add(
                    base, "gauge", "Last value of \(recorder.id.label).",
                    "\(base)\(labels(recorder.id.dimensions)) \(number(recorder.last))")
            case .distribution, .timer:
                let isTimer = recorder.kind == .timer
                let name = isTimer ? base + "_seconds" : base
                let scale = isTimer ? 0.001 : 1
                let aggregate = recorder.cumulative
                let help =
                    isTimer ? "Durations of \(recorder.id.label) in seconds." : "Distribution of \(recorder.id.label)."
                for q in [0.5, 0.9, 0.99] {
                    let value = aggregate.percentile(q * 100).map { $0 * scale } ?? .nan
                    add(
                        name, "summary", help,
                        "\(name)\(labels(recorder.id.dimensions, extra: ("quantile", "\(q)"))) \(number(value))")
                }
                add(
                    name, "summary", help,
                    "\(name)_sum\(labels(recorder.id.dimensions)) \(number(aggregate.sum * scale))")
                add(name, "summary", help, "\(name)_count\(labels(recorder.id.dimensions)) \(number(aggregate.count))")
            }
        }
        var out = ""
        for name in families.keys.sorted() {
            let family = families[name]!
            out += "# HELP \(name) \(escapeHelp(family.help))\n# TYPE \(name) \(family.type)\n"
            for line in family.lines.sorted() { out += line + "\n" }
        }
        return out
    }

    /// `Plumb/Functions/ConcurrentExecutions` → `plumb_functions_concurrent_executions`.
    static func metricName(_ label: String) -> String {
        var out = ""
        var previous: Character = "_"
        for ch in label {
            if ch.isUppercase && ch.isASCII {
                if previous.isLowercase || previous.isNumber { out.append("_") }
                out.append(Character(ch.lowercased()))
            } else if (ch.isLetter || ch.isNumber) && ch.isASCII {
                out.append(ch)
            } else if out.last != "_" {
                out.append("_")
            }
            previous = ch
        }
        if let first = out.first, first.isNumber { out = "_" + out }
        return out.isEmpty ? "_" : out
    }

    static func labelName(_ name: String) -> String {
        var out = String(name.map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        if let first = out.first, first.isNumber { out = "_" + out }
        if out.hasPrefix("__") { out = "x" + out }
        return out.isEmpty ? "_" : out
    }

    static func labels(_ dimensions: [PlumbAPI.Dimension], extra: (String, String)? = nil) -> String {
        var pairs = dimensions.map { (labelName($0.name), $0.value) }
        if let extra { pairs.append(extra) }
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0.0)=\"\(escapeValue($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escapeValue(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
