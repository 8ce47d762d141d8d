import PlumbAPI
import PlumbMetrics

/// How an OpenTelemetry metric name, unit and attribute keys become a Prometheus name and labels, which
/// `PrometheusNames` then makes a Plumb series: the one naming rule every ingest path shares. It is the rule
/// Prometheus' own OTLP receiver applies by default (underscore escaping with suffixes), so a metric exported by an
/// OpenTelemetry SDK and the same metric scraped from the OpenTelemetry Prometheus exporter are one series.
///
/// - Every character outside `[a-zA-Z0-9_:]` becomes `_`; runs of `_` become one; a leading digit gets a `_` before it.
/// - The unit, when it is a known UCUM unit, is appended as a word (`s` → `_seconds`, `By` → `_bytes`, `ms` →
///   `_milliseconds`, `By/s` → `_bytes_per_second`), unless the name already holds that word; a unit in braces
///   (`{request}`) is an annotation and adds nothing; a gauge in `1` gets `_ratio`.
/// - A monotonic sum ends in `_total`.
/// - Attribute keys become label names as Prometheus normalises them (`http.route` → `http_route`).
public enum OTLPNames {
    /// The Prometheus metric name of an OpenTelemetry metric.
    public static func metricName(_ name: String, unit: String, kind: Kind) -> String {
        var words = escape(name).split(separator: "_", omittingEmptySubsequences: true).map(String.init)
        // `_total` is re-appended last, after the unit (`requests_total` in `s` is `requests_seconds_total`).
        if kind == .monotonicSum, words.last == "total" { words.removeLast() }
        let suffix = unitWords(unit, kind: kind)
        if !suffix.isEmpty, !"_\(words.joined(separator: "_"))_".contains("_\(suffix.joined(separator: "_"))_") {
            words += suffix
        }
        if kind == .monotonicSum { words.append("total") }
        var result = words.joined(separator: "_")
        if result.isEmpty { return "" }
        if let first = result.utf8.first, first >= 0x30, first <= 0x39 { result = "_" + result }
        return result
    }

    /// The kinds the naming rule tells apart.
    public enum Kind: Sendable {
        case gauge, monotonicSum, sum, histogram, summary
    }

    /// A label name from an attribute key, as Prometheus normalises it: characters outside `[a-zA-Z0-9_]` become
    /// `_` (runs kept), a leading digit gets `key_` before it, a single leading `_` gets `key`.
    public static func labelName(_ key: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            let ok = (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
            out.append(ok ? byte : 0x5F)
        }
        var result = String(decoding: out, as: UTF8.self)
        if let first = out.first, first >= 0x30, first <= 0x39 {
            result = "key_" + result
        } else if out.first == 0x5F, out.count < 2 || out[1] != 0x5F {
            result = "key" + result
        }
        return result
    }

    /// `[^a-zA-Z0-9_:]` → `_`, runs of `_` made one.
    static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var lastWasUnderscore = false
        for byte in text.utf8 {
            let ok = (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x3A
            if ok {
                out.append(byte)
                lastWasUnderscore = false
            } else if !lastWasUnderscore {
                out.append(0x5F)
                lastWasUnderscore = true
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The words a UCUM unit adds to a name.
    static func unitWords(_ unit: String, kind: Kind) -> [String] {
        let unit = unit.trimmingSpaces
        if unit.isEmpty || unit.hasPrefix("{") { return [] }
        if unit == "1" { return kind == .gauge ? ["ratio"] : [] }
        let parts = unit.split(separator: "/", maxSplits: 1).map(String.init)
        var words: [String] = []
        if let main = parts.first, !main.hasPrefix("{"), !main.isEmpty {
            words += (mainUnits[main] ?? escape(main)).split(separator: "_").map(String.init)
        }
        if parts.count == 2, !parts[1].hasPrefix("{"), !parts[1].isEmpty {
            words.append("per")
            words += (perUnits[parts[1]] ?? escape(parts[1])).split(separator: "_").map(String.init)
        }
        return words.filter { !$0.isEmpty }
    }

    static let mainUnits: [String: String] = [
        "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
        "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
        "TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
        "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
        "Hz": "hertz", "%": "percent",
    ]
    static let perUnits: [String: String] = [
        "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
    ]

    /// The CloudWatch unit of a UCUM unit, when there is one (kept with the series, shown by the statistics API).
    public static func metricUnit(_ unit: String) -> MetricUnit? {
        switch unit.trimmingSpaces {
        case "s": .seconds
        case "ms": .milliseconds
        case "us": .microseconds
        case "By": .bytes
        case "KBy", "KiBy": .kilobytes
        case "MBy", "MiBy": .megabytes
        case "GBy", "GiBy": .gigabytes
        case "TBy", "TiBy": .terabytes
        case "bit": .bits
        case "%": .percent
        case "By/s": .bytesPerSecond
        case "bit/s": .bitsPerSecond
        case "1": MetricUnit.none
        case let u where u.hasPrefix("{") && u.hasSuffix("}"): .count
        default: nil
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
