import Foundation
import PlumbAPI

/// The Prometheus HTTP API's JSON (`{"status":"success","data":…}`), written directly: a range answer holds a pair
/// per step per series. Values are strings as Prometheus writes them (`"1.5"`, `"NaN"`, `"+Inf"`), times are
/// seconds with milliseconds.
public enum PromQLJSON {
    public static func success(_ result: PromQLResult) -> [UInt8] {
        var w = JSONWriter(capacity: 4_096)
        w.raw("{\"status\":\"success\",\"data\":{\"resultType\":")
        switch result {
        case .scalar(let time, let value):
            w.raw("\"scalar\",\"result\":")
            pair(&w, time, format(value))
        case .string(let at, let value):
            w.raw("\"string\",\"result\":")
            w.raw("[")
            time(&w, at)
            w.comma()
            w.string(value)
            w.raw("]")
        case .vector(let samples, let at):
            w.raw("\"vector\",\"result\":[")
            for (i, s) in samples.enumerated() {
                if i > 0 { w.comma() }
                w.raw("{\"metric\":")
                labels(&w, s.labels)
                w.raw(",\"value\":")
                pair(&w, at, format(s.value))
                w.raw("}")
            }
            w.raw("]")
        case .matrix(let series):
            w.raw("\"matrix\",\"result\":[")
            for (i, s) in series.enumerated() {
                if i > 0 { w.comma() }
                w.raw("{\"metric\":")
                labels(&w, s.labels)
                w.raw(",\"values\":[")
                for k in s.times.indices { point(&w, s.times[k], s.values[k], comma: k > 0) }
                w.raw("]}")
            }
            w.raw("]")
        }
        w.raw("}}")
        return w.bytes
    }

    /// `{"status":"success","data":[…]}` for a list of strings (label names, label values).
    public static func success(strings: [String]) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"success\",\"data\":[")
        for (i, s) in strings.enumerated() {
            if i > 0 { w.comma() }
            w.string(s)
        }
        w.raw("]}")
        return w.bytes
    }

    /// `{"status":"success","data":[{…},…]}` for label sets (the series API).
    public static func success(labelSets: [PromLabels]) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"success\",\"data\":[")
        for (i, s) in labelSets.enumerated() {
            if i > 0 { w.comma() }
            labels(&w, s)
        }
        w.raw("]}")
        return w.bytes
    }

    public static func error(_ error: PromQLError) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"status\":\"error\",\"errorType\":")
        w.string(error.kind.rawValue)
        w.raw(",\"error\":")
        w.string(error.message)
        w.raw("}")
        return w.bytes
    }

    public static func format(_ value: Double) -> String { PromQLEvaluator.format(value) }

    static func labels(_ w: inout JSONWriter, _ labels: PromLabels) {
        w.raw("{")
        for (i, (name, value)) in zip(labels.names, labels.values).enumerated() {
            if i > 0 { w.comma() }
            w.string(name)
            w.raw(":")
            w.string(value)
        }
        w.raw("}")
    }

    /// One `[time,"value"]` pair of a range answer (after a comma when `comma`). In the usual case (a time after 1970,
    /// an integer value or one whose shortest digits have no exponent) the pair is formed on the stack and appended
    /// at once: a range answer holds one per step per series.
    static func point(_ w: inout JSONWriter, _ t: Int64, _ v: Double, comma: Bool) {
        var text = ""
        let integral = v != 0 && v == v.rounded() && abs(v) < 1e15
        if !integral && v.isFinite && v != 0 { text = v.description }
        var plain = t >= 0 && (integral || (!text.isEmpty && text.utf8.count <= 32))
        if plain && !integral {
            plain = text.withUTF8 { !$0.contains(UInt8(ascii: "e")) }
        }
        guard plain else {
            if comma { w.comma() }
            w.raw("[")
            time(&w, t)
            w.comma()
            value(&w, v)
            w.raw("]")
            return
        }
        // At most 1 + 1 + 19 + 4 + 2 + 32 + 2 bytes.
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { raw in
            var n = 0
            func put(_ byte: UInt8) {
                raw[n] = byte
                n += 1
            }
            /// The decimal digits of `x`, `width` of them at least.
            func digits(_ x: UInt64, width: Int = 1) {
                var count = 1
                var rest = x / 10
                while rest > 0 {
                    count += 1
                    rest /= 10
                }
                count = max(count, width)
                var x = x
                for i in stride(from: n + count - 1, through: n, by: -1) {
                    raw[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: x % 10)
                    x /= 10
                }
                n += count
            }
            if comma { put(UInt8(ascii: ",")) }
            put(UInt8(ascii: "["))
            let (seconds, ms) = t.quotientAndRemainder(dividingBy: 1_000)
            digits(UInt64(seconds))
            if ms != 0 {
                var (fraction, width) = (ms, 3)
                while fraction % 10 == 0 {
                    fraction /= 10
                    width -= 1
                }
                put(UInt8(ascii: "."))
                digits(UInt64(fraction), width: width)
            }
            put(UInt8(ascii: ","))
            put(UInt8(ascii: "\""))
            if integral {
                if v < 0 { put(UInt8(ascii: "-")) }
                digits(UInt64(abs(v)))
            } else {
                text.withUTF8 { utf8 in
                    for byte in utf8 { put(byte) }
                }
            }
            put(UInt8(ascii: "\""))
            put(UInt8(ascii: "]"))
            w.append(encoded: UnsafeRawBufferPointer(rebasing: raw[0..<n]))
        }
    }

    /// Seconds, then the milliseconds when there are any (`1700000000`, `1700000000.5`), written straight into the
    /// answer.
    static func time(_ w: inout JSONWriter, _ t: Int64) {
        guard t >= 0 else { return w.append(encoded: timeText(t)) }
        let (seconds, ms) = t.quotientAndRemainder(dividingBy: 1_000)
        w.append(digitsOf: seconds)
        guard ms != 0 else { return }
        var digits = ms
        var width = 3
        while digits % 10 == 0 {
            digits /= 10
            width -= 1
        }
        w.raw(".")
        if width == 3 && digits < 100 { w.raw("0") }
        if width >= 2 && digits < 10 { w.raw("0") }
        w.append(digitsOf: digits)
    }

    /// A sample value as a JSON string, as Prometheus writes it.
    static func value(_ w: inout JSONWriter, _ v: Double) {
        w.raw("\"")
        if v != 0, v == v.rounded(), abs(v) < 1e15 {
            w.append(digitsOf: Int64(v))
        } else {
            w.append(ascii: format(v))
        }
        w.raw("\"")
    }

    static func timeText(_ t: Int64) -> [UInt8] {
        let (seconds, ms) = t.quotientAndRemainder(dividingBy: 1_000)
        guard ms != 0, t >= 0 else { return Array((ms == 0 ? String(seconds) : format(Double(t) / 1_000)).utf8) }
        var text = String(seconds) + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
        while text.hasSuffix("0") { text.removeLast() }
        return Array(text.utf8)
    }

    static func pair(_ w: inout JSONWriter, _ t: Int64, _ value: String) {
        w.raw("[")
        time(&w, t)
        w.comma()
        w.string(value)
        w.raw("]")
    }
}

/// Times and durations as Prometheus' API takes them.
public enum PromQLTime {
    /// Seconds since the epoch (`1700000000.5`) or RFC 3339 (`2026-12-07T10:00:00Z`), in milliseconds.
    public static func parse(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite {
            guard abs(seconds) < 9e12 else { return nil }
            let whole = seconds.rounded(.towardZero)
            let fraction = ((seconds - whole) * 1_000).rounded()
            return Int64(whole) * 1_000 + Int64(fraction)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
            let ms = (date.timeIntervalSince1970 * 1_000).rounded()
            guard abs(ms) < 9e15 else { return nil }
            return Int64(ms)
        }
        return nil
    }

    /// Seconds (`15`, `0.5`) or a Prometheus duration (`1m30s`), in milliseconds.
    public static func duration(_ text: String) -> Int64? {
        if let seconds = Double(text), seconds.isFinite {
            guard abs(seconds) < 9e12 else { return nil }
            return Int64((seconds * 1_000).rounded())
        }
        var lexer = PromQLLexer(text)
        guard let tokens = try? lexer.tokens(), tokens.count == 2, case .duration(let ms) = tokens[0].0 else {
            return nil
        }
        return ms
    }
}
