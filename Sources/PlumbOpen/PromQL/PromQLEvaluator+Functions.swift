import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// PromQL's functions, each as Prometheus 2.x computes it.
extension PromQLEvaluator {
    func call(_ name: String, _ args: [PromQLNode], id: Int, _ t: Int64) throws(PromQLError) -> PromValue {
        // A function of a range vector: applied to each series' window.
        if let m = args.firstIndex(where: {
            if case .matrix = $0 { true } else if case .subquery = $0 { true } else { false }
        }) {
            var scalars: [Int: Double] = [:]
            for (i, arg) in args.enumerated() where i != m { scalars[i] = try scalar(arg, t) }
            let (window, rangeLength) = Self.window(args[m], t)
            let table = table(id)
            var out: [PromSample] = []
            // The function picked once, not by its name for every window.
            let function = RangeFunction(rawValue: name) ?? .overTime
            let keepsName = name == "last_over_time"
            let overTime = OverTime(rawValue: name) ?? .count
            let (first, second) = (scalars[0] ?? 0, scalars[1] ?? 0)
            let third = scalars[2] ?? 0
            // The table's labels, copied for the loop (a class's property is checked for exclusive access at each read).
            var known = table.labels
            let applied = Applied(
                function: function, overTime: overTime, window: window, range: rangeLength, t: t,
                first: first, second: second, third: third)
            /// The labels of slot `slot`'s result: the table's, derived once per slot. `known` is passed, not captured:
            /// a variable a local function captures is checked for exclusive access at run time, at every access. The
            /// series' own labels are passed only when `known` has nothing for the slot: an argument that read them from
            /// the selector's set would hold every array of the set for the call.
            func labels(_ slot: Int, _ known: inout [PromLabels?]) -> PromLabels? {
                slot >= 0 && slot < known.count && !keepsName ? known[slot] : nil
            }
            func labels(_ slot: Int, of own: PromLabels, _ known: inout [PromLabels?]) -> PromLabels {
                if keepsName { return own }
                let made = derive(table, 0, slot: slot, own) { $0.withoutName }
                known = table.labels
                return made
            }
            var any = false
            if case .matrix(let selector, let range, let i) = args[m] {
                // Straight from the selector's series: each window is a view of the series' own arrays.
                let ref = Self.reference(selector.modifiers, t)
                let set = data[i]
                out.reserveCapacity(set.count)
                let cursor = cursors(id, count: set.count)
                let forward = ref >= cursor.reference
                var (starts, ends) = (cursor.windowStarts, cursor.positions)
                defer { (cursor.windowStarts, cursor.positions, cursor.reference) = (starts, ends, ref) }
                let absentOverTime = name == "absent_over_time"
                set.withBuffers { offsets, times, values in
                    for slot in 0..<set.count {
                        let (lo, hi) = (offsets[slot], offsets[slot + 1])
                        let a = Cursors.bound(
                            times, lo, hi, ref &- range, from: forward ? starts[slot] : nil, strict: false)
                        let b = Cursors.bound(times, lo, hi, ref, from: forward ? ends[slot] : nil, strict: true)
                        (starts[slot], ends[slot]) = (a, b)
                        guard a < b else { continue }
                        any = true
                        if absentOverTime { return }
                        let w = Window(
                            times: UnsafeBufferPointer(rebasing: times[a..<b]),
                            values: UnsafeBufferPointer(rebasing: values[a..<b]))
                        guard let value = applied.value(w) else { continue }
                        let found = labels(slot, &known) ?? labels(slot, of: set.labels[slot], &known)
                        out.append(PromSample(labels: found, value: value, time: t, slot: slot))
                    }
                }
            } else {
                guard case .matrix(let ranges) = try eval(args[m], t) else {
                    throw PromQLError(.execution, "\(name) needs a range vector")
                }
                any = !ranges.isEmpty
                if name != "absent_over_time" {
                    for r in ranges {
                        let times = Array(r.times)
                        let values = Array(r.values)
                        let value = times.withUnsafeBufferPointer { times in
                            values.withUnsafeBufferPointer { values in
                                applied.value(Window(times: times, values: values))
                            }
                        }
                        guard let value else { continue }
                        let found = labels(r.slot, &known) ?? labels(r.slot, of: r.labels, &known)
                        out.append(PromSample(labels: found, value: value, time: t, slot: r.slot))
                    }
                }
            }
            if name == "absent_over_time" {
                guard !any else { return .vector([]) }
                return .vector([PromSample(labels: Self.absentLabels(args[m]), value: 1, time: t)])
            }
            // Prometheus checks the factors when a series has samples, not before.
            if function == .holtWinters && any { try Self.checkHoltWinters(smoothing: second, trend: third) }
            // And it checks the whole result: two series that ever give the same labels are refused.
            if table.collides { throw PromQLError.sameLabelSet }
            return .vector(try unique(out, table))
        }
        switch name {
        case "time": return .scalar(Double(t) / 1_000)
        case "pi": return .scalar(Double.pi)
        case "scalar":
            let v = try vector(args[0], t)
            return .scalar(v.count == 1 ? v[0].value : .nan)
        case "vector": return .vector([PromSample(labels: .empty, value: try scalar(args[0], t), time: t, slot: 0)])
        case "timestamp":
            // A selector's samples answer with their own time; anything computed with the evaluation time.
            let direct: Bool = if case .vector = args[0] { true } else { false }
            let table = table(id)
            let input: [PromSample]
            if case .vector(var selector, let i) = args[0], selector.modifiers.at != nil {
                // Prometheus replaces a selector's offset when it has `@` here: the sample at `@` itself.
                selector.modifiers.offset = 0
                input = instantSelect(selector, data[i], t)
            } else {
                input = try vector(args[0], t)
            }
            return .vector(
                try unique(
                    input.map {
                        PromSample(
                            labels: derive(table, 0, $0) { $0.withoutName },
                            value: Double(direct ? $0.time : t) / 1_000,
                            time: t, slot: $0.slot)
                    }, table))
        case "absent":
            guard try vector(args[0], t).isEmpty else { return .vector([]) }
            return .vector([PromSample(labels: Self.absentLabels(args[0]), value: 1, time: t, slot: 0)])
        case "sort", "sort_desc":
            let v = try vector(args[0], t)
            let ascending = name == "sort"
            // NaN sorts last either way.
            return .vector(
                v.enumerated().sorted { a, b in
                    let (x, y) = (a.element.value, b.element.value)
                    if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? a.offset < b.offset : !x.isNaN }
                    if x == y { return a.offset < b.offset }
                    return ascending ? x < y : x > y
                }.map(\.element))
        case "label_replace": return .vector(try unique(try labelReplace(args, t, table: table(id), id: id), table(id)))
        case "label_join": return .vector(try unique(try labelJoin(args, t, table: table(id), id: id), table(id)))
        case "histogram_quantile":
            return .vector(try unique(histogramQuantile(try scalar(args[0], t), try vector(args[1], t), t)))
        case "clamp", "clamp_min", "clamp_max":
            let v = try vector(args[0], t)
            let low = name == "clamp_max" ? -Double.infinity : try scalar(args[1], t)
            let high =
                name == "clamp" ? try scalar(args[2], t) : (name == "clamp_max" ? try scalar(args[1], t) : .infinity)
            if name == "clamp" && high < low { return .vector([]) }
            return .vector(
                try droppingNames(v, id: id, t) { v in
                    var value = v
                    if name != "clamp_max" { value = Swift.max(low, value) }
                    if name != "clamp_min" { value = Swift.min(high, value) }
                    return v.isNaN ? .nan : value
                })
        case "round":
            let v = try vector(args[0], t)
            let nearest = args.count > 1 ? try scalar(args[1], t) : 1
            let inverse = 1 / nearest
            return .vector(try droppingNames(v, id: id, t) { ($0 * inverse + 0.5).rounded(.down) / inverse })
        case "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year":
            if args.isEmpty {
                return .vector([PromSample(labels: .empty, value: Self.date(name, Double(t / 1_000)), time: t)])
            }
            return .vector(try droppingNames(try vector(args[0], t), id: id, t) { Self.date(name, $0) })
        default:
            guard let f = Self.simple[name] else { throw PromQLError(.badData, "unknown function \"\(name)\"") }
            return .vector(try droppingNames(try vector(args[0], t), id: id, t, value: f))
        }
    }

    /// A date function of `seconds` since the epoch, in UTC; NaN for values no date has.
    static func date(_ name: String, _ seconds: Double) -> Double {
        guard seconds.isFinite, Swift.abs(seconds) < 6.7e15 else { return .nan }
        var time = time_t(seconds.rounded(.towardZero))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return .nan }
        let year = Int(parts.tm_year) + 1900
        switch name {
        case "day_of_month": return Double(parts.tm_mday)
        case "day_of_week": return Double(parts.tm_wday)
        case "day_of_year": return Double(parts.tm_yday + 1)
        case "hour": return Double(parts.tm_hour)
        case "minute": return Double(parts.tm_min)
        case "month": return Double(parts.tm_mon + 1)
        case "year": return Double(year)
        default:
            let days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(parts.tm_mon)]
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return Double(parts.tm_mon == 1 && leap ? 29 : days)
        }
    }

    func stringArgument(_ node: PromQLNode) -> String {
        if case .string(let s) = node { return s }
        return ""
    }

    func labelReplace(_ args: [PromQLNode], _ t: Int64, table: SlotTable, id: Int) throws(PromQLError) -> [PromSample] {
        let (destination, replacement, source, pattern) = (
            stringArgument(args[1]), stringArgument(args[2]), stringArgument(args[3]), stringArgument(args[4])
        )
        guard let regex = regex(pattern) else {
            throw PromQLError(.execution, "invalid regular expression in label_replace(): \(pattern)")
        }
        guard PromLabels.isLabelName(destination) else {
            throw PromQLError(.execution, "invalid destination label name in label_replace(): \(destination)")
        }
        return try vector(args[0], t).map { s in
            let labels = derive(table, id, s) { labels in
                let value = labels.get(source)
                let range = NSRange(value.startIndex..<value.endIndex, in: value)
                guard let match = regex.firstMatch(in: value, range: range) else { return labels }
                return labels.setting(destination, Self.expand(replacement, match: match, in: value, regex: regex))
            }
            return PromSample(labels: labels, value: s.value, time: t, slot: s.slot)
        }
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is the longest run of `[a-zA-Z0-9_]`, an
    /// unknown group is empty.
    static func expand(
        _ template: String, match: NSTextCheckingResult, in value: String, regex: NSRegularExpression
    )
        -> String
    {
        let chars = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func group(_ name: String) -> String {
            let range: NSRange
            // A number names a group; with a leading zero it is a name, as Go's `Expand` reads it.
            if let n = Int(name), !(name.hasPrefix("0") && name.count > 1) {
                guard n >= 0, n <= regex.numberOfCaptureGroups else { return "" }
                range = match.range(at: n)
            } else {
                range = match.range(withName: name)
            }
            guard range.location != NSNotFound, let r = Range(range, in: value) else { return "" }
            return String(value[r])
        }
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
        }
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == "$" {
                out.append("$")
                i += 2
            } else if chars[i + 1] == "{", let close = chars[(i + 2)...].firstIndex(of: "}"),
                close > i + 2, chars[(i + 2)..<close].allSatisfy(isNameChar)
            {
                out.append(contentsOf: group(String(String.UnicodeScalarView(chars[(i + 2)..<close]))).unicodeScalars)
                i = close + 1
            } else {
                var j = i + 1
                while j < chars.count, isNameChar(chars[j]) { j += 1 }
                if j == i + 1 {
                    out.append(c)
                    i += 1
                } else {
                    out.append(contentsOf: group(String(String.UnicodeScalarView(chars[(i + 1)..<j]))).unicodeScalars)
                    i = j
                }
            }
        }
        return String(out)
    }

    func labelJoin(_ args: [PromQLNode], _ t: Int64, table: SlotTable, id: Int) throws(PromQLError) -> [PromSample] {
        let destination = stringArgument(args[1])
        let separator = stringArgument(args[2])
        let sources = args.dropFirst(3).map(stringArgument)
        for source in sources where !PromLabels.isLabelName(source) {
            throw PromQLError(.execution, "invalid source label name in label_join(): \(source)")
        }
        guard PromLabels.isLabelName(destination) else {
            throw PromQLError(.execution, "invalid destination label name in label_join(): \(destination)")
        }
        return try vector(args[0], t).map { s in
            let labels = derive(table, id, s) { labels in
                labels.setting(destination, sources.map { labels.get($0) }.joined(separator: separator))
            }
            return PromSample(labels: labels, value: s.value, time: t, slot: s.slot)
        }
    }

    /// `histogram_quantile` over classic bucket series (`le` labels), Prometheus' interpolation within the bucket.
    func histogramQuantile(_ q: Double, _ vector: [PromSample], _ t: Int64) -> [PromSample] {
        var groups: [PromLabels: [(bound: Double, count: Double)]] = [:]
        var order: [PromLabels] = []
        for s in vector {
            guard let bound = Self.parseFloat(s.labels.get("le")) else { continue }
            // Grouped by every label but `le`, the name included (two histograms are never merged); the name is
            // dropped from the answer.
            let key = derive(-1, s.labels) { $0.dropping(["le"]) }
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append((bound, s.value))
        }
        return order.map {
            PromSample(labels: dropName($0), value: Self.bucketQuantile(q, groups[$0]!), time: t)
        }
    }

    /// Go's `strconv.ParseFloat` for the values a `le` label holds.
    static func parseFloat(_ s: String) -> Double? {
        switch s.lowercased() {
        case "+inf", "inf", "+infinity", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default:
            guard !s.isEmpty,
                s.utf8.allSatisfy({
                    ($0 >= 0x30 && $0 <= 0x39) || "+-.eExX_pP".utf8.contains($0)
                        || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66)
                })
            else { return nil }
            return Double(s)
        }
    }

    static func bucketQuantile(_ q: Double, _ input: [(bound: Double, count: Double)]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var buckets = input.sorted { $0.bound < $1.bound }
        guard buckets.last!.bound == .infinity else { return .nan }
        // Buckets of the same bound are one bucket.
        var merged: [(bound: Double, count: Double)] = []
        for b in buckets {
            if let last = merged.last, last.bound == b.bound {
                merged[merged.count - 1].count += b.count
            } else {
                merged.append(b)
            }
        }
        buckets = merged
        // Counts never decrease with the bound.
        var highest = buckets[0].count
        for i in 1..<buckets.count {
            if buckets[i].count > highest {
                highest = buckets[i].count
            } else if buckets[i].count < highest {
                buckets[i].count = highest
            }
        }
        guard buckets.count >= 2 else { return .nan }
        let observations = buckets.last!.count
        guard observations != 0 else { return .nan }
        var rank = q * observations
        var b = 0
        while b < buckets.count - 1 && !(buckets[b].count >= rank) { b += 1 }
        if b == buckets.count - 1 { return buckets[buckets.count - 2].bound }
        if b == 0 && buckets[0].bound <= 0 { return buckets[0].bound }
        var start = 0.0
        let end = buckets[b].bound
        var count = buckets[b].count
        if b > 0 {
            start = buckets[b - 1].bound
            count -= buckets[b - 1].count
            rank -= buckets[b - 1].count
        }
        return start + (end - start) * (rank / count)
    }
}
