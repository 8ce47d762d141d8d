import Foundation

/// Axis arithmetic for charts: a value range widened to round ticks (1, 2, 2.5, 5 × 10ⁿ) and compact tick labels.
///
/// Every input may be extreme (±1e300, a range of one value): nothing here traps, converts a non-finite double to an
/// integer, or loops without a bound.
enum ChartAxis {
    /// The y range and its ticks for `values` and the threshold.
    static func ticks(
        covering values: [Double], intervals: Int = 4
    ) -> (low: Double, high: Double, ticks: [Double], step: Double) {
        let finite = values.filter(\.isFinite)
        guard var low = finite.min(), var high = finite.max() else { return (0, 1, [0, 1], 1) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        // Halves keep the span finite near the ends of the double range.
        let span = high / 2 - low / 2
        guard span.isFinite, span > 0 else { return (low, high, [low, high], high - low) }
        let step = niceStep(2 * span / Double(intervals))
        guard step.isFinite, step > 0 else { return (low, high, [low, high], 2 * span) }
        let first = (low / step).rounded(.down) * step
        let last = (high / step).rounded(.up) * step
        guard first.isFinite, last.isFinite, first < last else { return (low, high, [low, high], 2 * span) }
        var ticks: [Double] = []
        var k = 0.0
        while ticks.count <= 4 * intervals {
            let t = first + k * step
            if t > last + step / 2 { break }
            ticks.append(t)
            k += 1
        }
        return (first, last, ticks, step)
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let r = raw / magnitude
        let nice: Double = r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// A tick label: `0`, `250`, `0.25`, `1.5k`, `12M`, `2e-05` — only characters the chart font has.
    static func label(_ value: Double, step: Double) -> String {
        guard value.isFinite else { return "?" }
        if value == 0 || abs(value) < step / 1e6 { return "0" }
        let size = max(abs(value), step)
        if size >= 1e15 || size < 1e-3 { return compact(String(format: "%.2g", value)) }
        let (scale, suffix): (Double, String) =
            size >= 1e12
            ? (1e12, "T") : size >= 1e9 ? (1e9, "G") : size >= 1e6 ? (1e6, "M") : size >= 1e4 ? (1e3, "k") : (1, "")
        let scaledStep = step / scale
        var decimals = 0
        while decimals < 6 {
            let shifted = scaledStep * pow(10, Double(decimals))
            if abs(shifted - shifted.rounded()) < 1e-6 * max(1, shifted) { break }
            decimals += 1
        }
        return String(format: "%.\(decimals)f", value / scale) + suffix
    }

    /// A value for prose (alt text, captions): up to 6 significant digits.
    static func plain(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        return compact(String(format: "%.6g", value))
    }

    /// `2e-05` → `2e-5`, `1e+20` → `1e20`.
    static func compact(_ text: String) -> String {
        text.replacingOccurrences(of: "e+", with: "e").replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(
            of: "e0", with: "e")
    }

    /// `HH:MM` (with `:SS` for periods under a minute; with `MM-DD ` before it for charts longer than a day), UTC.
    static func timeLabel(_ epoch: Int64, period: Int64, span: Int64) -> String {
        var t = time_t(epoch)
        var parts = tm()
        gmtime_r(&t, &parts)
        var text = String(format: "%02d:%02d", parts.tm_hour, parts.tm_min)
        if period < 60 { text += String(format: ":%02d", parts.tm_sec) }
        if span > 86_400 { text = String(format: "%02d-%02d ", parts.tm_mon + 1, parts.tm_mday) + text }
        return text
    }
}
