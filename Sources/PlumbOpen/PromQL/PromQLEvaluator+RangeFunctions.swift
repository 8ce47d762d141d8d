import Foundation

/// The functions of a range vector, on one series' window, as Prometheus 2.x computes them.
extension PromQLEvaluator {
    enum RangeFunction: String {
        case rate, increase, delta, irate, idelta, deriv, changes, resets
        case predictLinear = "predict_linear"
        case holtWinters = "holt_winters"
        case quantileOverTime = "quantile_over_time"
        /// The rest of the `*_over_time` family, by name.
        case overTime
    }

    /// A series' samples in one window, viewed in place.
    struct Window {
        let times: UnsafeBufferPointer<Int64>
        let values: UnsafeBufferPointer<Double>
    }

    static let simple: [String: @Sendable (Double) -> Double] = [
        "abs": { Swift.abs($0) }, "ceil": { $0.rounded(.up) }, "floor": { $0.rounded(.down) },
        "exp": { Foundation.exp($0) }, "sqrt": { $0.squareRoot() }, "ln": { Foundation.log($0) },
        "log2": { Foundation.log2($0) }, "log10": { Foundation.log10($0) }, "sin": { Foundation.sin($0) },
        "cos": { Foundation.cos($0) }, "tan": { Foundation.tan($0) }, "asin": { Foundation.asin($0) },
        "acos": { Foundation.acos($0) }, "atan": { Foundation.atan($0) }, "sinh": { Foundation.sinh($0) },
        "cosh": { Foundation.cosh($0) }, "tanh": { Foundation.tanh($0) }, "asinh": { Foundation.asinh($0) },
        "acosh": { Foundation.acosh($0) }, "atanh": { Foundation.atanh($0) }, "rad": { $0 * Double.pi / 180 },
        "deg": { $0 * 180 / Double.pi }, "sgn": { $0 < 0 ? -1 : ($0 > 0 ? 1 : $0) },
    ]

    /// The window a range function reads at `t`: its bounds and its length (for `rate`'s per-second division).
    static func window(_ node: PromQLNode, _ t: Int64) -> (ClosedRange<Int64>, Int64) {
        switch node {
        case .matrix(let selector, let range, _):
            let ref = reference(selector.modifiers, t)
            return ((ref &- range)...ref, range)
        case .subquery(_, let range, _, let modifiers, _):
            let ref = reference(modifiers, t)
            return ((ref &- range)...ref, range)
        default:
            return (t...t, 0)
        }
    }

    /// The labels `absent` gives: the selector's equality matchers, except the name and labels matched otherwise.
    static func absentLabels(_ node: PromQLNode) -> PromLabels {
        let selector: VectorSelector
        switch node {
        case .vector(let s, _), .matrix(let s, _, _): selector = s
        default: return .empty
        }
        var pairs: [(String, String)] = []
        var seen = Set<String>()
        var dropped = Set<String>()
        for m in selector.matchers where m.name != PromLabels.metricName {
            if m.kind == .equal && !seen.contains(m.name) {
                pairs.append((m.name, m.value))
                seen.insert(m.name)
            } else {
                dropped.insert(m.name)
            }
        }
        return PromLabels(pairs.filter { !dropped.contains($0.0) })
    }

    /// A range function with its arguments, applied to one window at a time.
    struct Applied {
        let function: RangeFunction
        let overTime: OverTime
        let window: ClosedRange<Int64>
        let range: Int64
        let t: Int64
        let first: Double
        let second: Double
        let third: Double

        func value(_ w: Window) -> Double? {
            switch function {
            case .rate, .increase, .delta:
                return PromQLEvaluator.extrapolatedRate(
                    w, from: window.lowerBound, to: window.upperBound, range: range,
                    counter: function != .delta, rate: function == .rate)
            case .irate, .idelta: return PromQLEvaluator.instantRate(w, rate: function == .irate)
            case .deriv: return w.times.count < 2 ? nil : PromQLEvaluator.regression(w, at: w.times[0]).slope
            case .predictLinear:
                guard w.times.count >= 2 else { return nil }
                let line = PromQLEvaluator.regression(w, at: t)
                return line.slope * second + line.intercept
            case .holtWinters: return PromQLEvaluator.holtWinters(w, smoothing: second, trend: third)
            case .changes, .resets: return PromQLEvaluator.changes(w, resets: function == .resets)
            case .quantileOverTime: return PromQLEvaluator.quantile(first, Array(w.values))
            case .overTime: return PromQLEvaluator.overTime(overTime, w.values)
            }
        }
    }

    /// `rate`, `increase` and `delta`: the change over the window, extrapolated to its edges as Prometheus does.
    static func extrapolatedRate(
        _ r: Window, from rangeStart: Int64, to rangeEnd: Int64, range: Int64, counter: Bool, rate: Bool
    ) -> Double? {
        let n = r.times.count
        guard n >= 2 else { return nil }
        let values = r.values
        let first = values.first!
        let last = values.last!
        var result = last - first
        if counter {
            var previous = first
            for v in values.dropFirst() {
                if v < previous { result += previous }
                previous = v
            }
        }
        var durationToStart = Double(r.times.first! - rangeStart) / 1_000
        let durationToEnd = Double(rangeEnd - r.times.last!) / 1_000
        let sampled = Double(r.times.last! - r.times.first!) / 1_000
        let average = sampled / Double(n - 1)
        if counter && result > 0 && first >= 0 {
            let durationToZero = sampled * (first / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = average * 1.1
        var interval = sampled
        interval += durationToStart < threshold ? durationToStart : average / 2
        interval += durationToEnd < threshold ? durationToEnd : average / 2
        var factor = interval / sampled
        if rate { factor /= Double(range) / 1_000 }
        return result * factor
    }

    /// `irate` and `idelta`: from the last two samples.
    static func instantRate(_ r: Window, rate: Bool) -> Double? {
        guard r.times.count >= 2 else { return nil }
        let last = r.values.last!
        let previous = r.values[r.values.endIndex - 2]
        let result = rate && last < previous ? last : last - previous
        let interval = r.times.last! - r.times[r.times.endIndex - 2]
        guard interval != 0 else { return nil }
        return rate ? result / (Double(interval) / 1_000) : result
    }

    /// Neumaier's compensated summation step (Prometheus' `kahanSumInc`).
    @inline(__always)
    static func kahan(_ increment: Double, _ sum: Double, _ c: Double) -> (Double, Double) {
        let total = sum + increment
        var c = c
        if Swift.abs(sum) >= Swift.abs(increment) {
            c += (sum - total) + increment
        } else {
            c += (increment - total) + sum
        }
        return (total, c)
    }

    /// Least squares over the window, the intercept at `at` (milliseconds).
    static func regression(_ r: Window, at: Int64) -> (slope: Double, intercept: Double) {
        var n = 0.0
        var (sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        let initial = r.values.first!
        var constant = true
        for (time, v) in zip(r.times, r.values) {
            if constant && n > 0 && v != initial { constant = false }
            n += 1
            let x = Double(time - at) / 1e3
            (sumX, cX) = kahan(x, sumX, cX)
            (sumY, cY) = kahan(v, sumY, cY)
            (sumXY, cXY) = kahan(x * v, sumXY, cXY)
            (sumX2, cX2) = kahan(x * x, sumX2, cX2)
        }
        if constant {
            if initial.isInfinite { return (.nan, .nan) }
            return (0, initial)
        }
        sumX += cX
        sumY += cY
        sumXY += cXY
        sumX2 += cX2
        let covariance = sumXY - sumX * sumY / n
        let variance = sumX2 - sumX * sumX / n
        let slope = covariance / variance
        return (slope, sumY / n - slope * sumX / n)
    }

    static func checkHoltWinters(smoothing sf: Double, trend tf: Double) throws(PromQLError) {
        // As Prometheus tests them: NaN passes.
        if sf <= 0 || sf >= 1 {
            throw PromQLError(
                .execution, "invalid smoothing factor. Expected: 0 < sf < 1, got: \(String(format: "%f", sf))")
        }
        if tf <= 0 || tf >= 1 {
            throw PromQLError(
                .execution, "invalid trend factor. Expected: 0 < tf < 1, got: \(String(format: "%f", tf))")
        }
    }

    /// Double exponential smoothing; the factors were checked (`checkHoltWinters`).
    static func holtWinters(_ r: Window, smoothing sf: Double, trend tf: Double) -> Double? {
        let values = Array(r.values)
        guard values.count >= 2 else { return nil }
        var s0 = 0.0
        var s1 = values[0]
        var b = values[1] - values[0]
        for i in 1..<values.count {
            let x = sf * values[i]
            if i - 1 != 0 { b = tf * (s1 - s0) + (1 - tf) * b }
            let y = (1 - sf) * (s1 + b)
            (s0, s1) = (s1, x + y)
        }
        return s1
    }

    static func changes(_ r: Window, resets: Bool) -> Double {
        var count = 0
        var previous = r.values.first!
        for v in r.values.dropFirst() {
            if resets {
                if v < previous { count += 1 }
            } else if v != previous && !(v.isNaN && previous.isNaN) {
                count += 1
            }
            previous = v
        }
        return Double(count)
    }

    /// The `*_over_time` family.
    enum OverTime: String {
        case count = "count_over_time"
        case present = "present_over_time"
        case last = "last_over_time"
        case max = "max_over_time"
        case min = "min_over_time"
        case sum = "sum_over_time"
        case avg = "avg_over_time"
        case stddev = "stddev_over_time"
        case stdvar = "stdvar_over_time"
    }

    static func overTime(_ function: OverTime, _ values: UnsafeBufferPointer<Double>) -> Double? {
        switch function {
        case .count: return Double(values.count)
        case .present: return 1
        case .last: return values.last!
        case .max:
            var m = values.first!
            for v in values where v > m || m.isNaN { m = v }
            return m
        case .min:
            var m = values.first!
            for v in values where v < m || m.isNaN { m = v }
            return m
        case .sum:
            var (sum, c) = (0.0, 0.0)
            for v in values { (sum, c) = kahan(v, sum, c) }
            return sum.isInfinite ? sum : sum + c
        case .avg:
            var (mean, c, count) = (0.0, 0.0, 0.0)
            for v in values {
                count += 1
                if mean.isInfinite {
                    if v.isInfinite && (mean > 0) == (v > 0) { continue }
                    if !v.isInfinite && !v.isNaN { continue }
                }
                (mean, c) = kahan(v / count - mean / count, mean, c)
            }
            return mean.isInfinite ? mean : mean + c
        case .stddev, .stdvar:
            var (count, mean, cMean, aux, cAux) = (0.0, 0.0, 0.0, 0.0, 0.0)
            for v in values {
                count += 1
                let delta = v - (mean + cMean)
                (mean, cMean) = kahan(delta / count, mean, cMean)
                (aux, cAux) = kahan(delta * (v - (mean + cMean)), aux, cAux)
            }
            let variance = (aux + cAux) / count
            return function == .stdvar ? variance : variance.squareRoot()
        }
    }
}
