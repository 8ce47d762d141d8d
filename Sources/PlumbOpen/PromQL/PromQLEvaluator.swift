import Foundation

/// A value during evaluation at one time.
enum PromValue {
    case scalar(Double)
    case string(String)
    case vector([PromSample])
    case matrix([PromRange])
}

/// One element of an instant vector. `time` is the sample's own time for a selector's samples (what `timestamp()`
/// answers) and the evaluation time for everything computed.
///
/// `slot` names the series within the stream of vectors one node produces step after step: the same slot is the same
/// labels at every step (a selector's series index, an aggregation's group, a binary operation's pair), so a consumer
/// derives what it needs from a slot once (`SlotTable`); -1 when there is no such identity.
struct PromSample {
    var labels: PromLabels
    var value: Double
    var time: Int64
    var slot = -1
}

/// One series of a range vector: its samples in the window.
struct PromRange {
    var labels: PromLabels
    var times: ArraySlice<Int64>
    var values: ArraySlice<Double>
    /// The series index for a selector's windows (the same at every step); -1 for a subquery's.
    var slot = -1
}

/// Evaluates a planned query over the series read for it; one query, one task.
final class PromQLEvaluator {
    let root: PromQLNode
    let data: [SeriesSet]
    let lookback: Int64
    let maxSamples: Int
    /// Samples held: those read, plus the points of the result so far.
    var held: Int
    let deadline: ContinuousClock.Instant
    /// Each subquery's inner results by evaluation time, so overlapping windows of consecutive steps evaluate once.
    var subqueryCache: [Int: [Int64: PromValue]] = [:]
    var regexCache: [String: NSRegularExpression] = [:]
    /// Points the subquery caches hold, in all and per subquery.
    var cachedPoints = 0
    var subqueryCachePoints: [Int: Int] = [:]
    /// Labels derived from labels, by the node that derives them (its id; 0: dropping the name, -1: dropping the name
    /// and `le`): a series' labels are the same object at every step, so each is derived once per query.
    var derived: [DerivedKey: PromLabels] = [:]
    var paired: [PairKey: PromLabels] = [:]

    struct DerivedKey: Hashable {
        let id: Int
        let labels: PromLabels
    }

    struct PairKey: Hashable {
        let id: Int
        let a: PromLabels
        let b: PromLabels
    }

    @inline(__always)
    func derive(_ id: Int, _ labels: PromLabels, _ make: (PromLabels) -> PromLabels) -> PromLabels {
        let key = DerivedKey(id: id, labels: labels)
        if let found = derived[key] { return found }
        let made = make(labels)
        derived[key] = made
        return made
    }

    func dropName(_ labels: PromLabels) -> PromLabels { derive(0, labels) { $0.withoutName } }

    var tables: [Int: SlotTable] = [:]
    var pairSlots: [Int: PairSlots] = [:]
    var aggregateGroups: [Int: Groups] = [:]
    var cursors: [Int: Cursors] = [:]

    func cursors(_ id: Int, count: Int) -> Cursors {
        let c: Cursors
        if let found = cursors[id] {
            c = found
        } else {
            c = Cursors()
            cursors[id] = c
        }
        if c.positions.count != count {
            c.positions = Array(repeating: -1, count: count)
            c.windowStarts = Array(repeating: -1, count: count)
            c.reference = .min
        }
        return c
    }

    /// The table of node `id` (and its input `k`: binary operators keep one per side).
    func table(_ id: Int, _ k: Int = 0) -> SlotTable {
        let key = id &* 4 &+ k
        if let t = tables[key] { return t }
        let t = SlotTable()
        tables[key] = t
        return t
    }

    /// The labels `make` derives from a sample's, once per slot of `table` (and once per label set without a slot).
    @inline(__always)
    func derive(_ table: SlotTable, _ id: Int, _ s: PromSample, _ make: (PromLabels) -> PromLabels) -> PromLabels {
        derive(table, id, slot: s.slot, s.labels, make)
    }

    @inline(__always)
    func derive(
        _ table: SlotTable, _ id: Int, slot: Int, _ labels: PromLabels, _ make: (PromLabels) -> PromLabels
    ) -> PromLabels {
        if let found = table.get(slot) { return found }
        let made = derive(id, labels, make)
        if slot >= 0 { table.set(slot, made) }
        return made
    }

    /// Checks a vector made through `table` for duplicate labels, unless every element has a slot and the table saw
    /// no two slots give the same labels.
    func unique(_ samples: [PromSample], _ table: SlotTable) throws(PromQLError) -> [PromSample] {
        if !table.collides && samples.allSatisfy({ $0.slot >= 0 }) { return samples }
        return try unique(samples)
    }

    /// `samples` with their name dropped, each keeping its slot; checked for duplicates unless the table knows none.
    func droppingNames(
        _ samples: [PromSample], id: Int, _ t: Int64, value: (Double) -> Double = { $0 }
    ) throws(PromQLError)
        -> [PromSample]
    {
        let table = table(id)
        var out: [PromSample] = []
        out.reserveCapacity(samples.count)
        var slotted = true
        for s in samples {
            out.append(
                PromSample(labels: derive(table, 0, s) { $0.withoutName }, value: value(s.value), time: t, slot: s.slot)
            )
            if s.slot < 0 { slotted = false }
        }
        return slotted && !table.collides ? out : try unique(out)
    }
    var checks = 0

    init(
        root: PromQLNode, data: [SeriesSet], lookback: Int64, maxSamples: Int, loaded: Int,
        deadline: ContinuousClock.Instant
    ) {
        self.root = root
        self.data = data
        self.lookback = lookback
        self.maxSamples = maxSamples
        self.held = loaded
        self.deadline = deadline
    }

    func checkDeadline() throws(PromQLError) {
        checks &+= 1
        guard checks & 63 == 0 else { return }
        // Labels derived and paired per series are memory too: a query that keeps making new ones is refused.
        if derived.count + paired.count > maxSamples { throw PromQLError.tooManySamples }
        if Task.isCancelled { throw PromQLError(.canceled, "query was canceled in expression evaluation") }
        if ContinuousClock.now > deadline { throw PromQLError(.timeout, "query timed out in expression evaluation") }
    }

    func instant(_ t: Int64) throws(PromQLError) -> PromQLResult {
        switch try eval(root, t) {
        case .scalar(let v): return .scalar(time: t, value: v)
        case .string(let s): return .string(time: t, value: s)
        case .vector(let samples): return .vector(samples.map { ($0.labels, $0.value) }, time: t)
        case .matrix(let ranges):
            return .matrix(
                ranges.map { PromSeries(labels: $0.labels, times: Array($0.times), values: Array($0.values)) })
        }
    }

    func range(start: Int64, end: Int64, step: Int64) throws(PromQLError) -> PromQLResult {
        var assembly = SeriesAssembly()
        var t = start
        while t <= end {
            checks = 63
            try checkDeadline()
            let samples: [PromSample]
            switch try eval(root, t) {
            case .scalar(let v): samples = [PromSample(labels: .empty, value: v, time: t)]
            case .vector(let v): samples = v
            case .string, .matrix: throw PromQLError(.execution, "a range query must evaluate to a scalar or a vector")
            }
            held += samples.count
            guard held <= maxSamples else { throw PromQLError.tooManySamples }
            for s in samples { assembly.append(s, at: t) }
            let (next, overflow) = t.addingReportingOverflow(step)
            if overflow { break }
            t = next
        }
        assembly.series.sort { $0.labels < $1.labels }
        return .matrix(assembly.series)
    }

    // MARK: Evaluation at one time

    func eval(_ node: PromQLNode, _ t: Int64) throws(PromQLError) -> PromValue {
        switch node {
        case .number(let v): return .scalar(v)
        case .string(let s): return .string(s)
        case .vector(let selector, let i): return .vector(instantSelect(selector, data[i], t))
        case .matrix(let selector, let range, let i): return .matrix(rangeSelect(selector, range, data[i], t))
        case .subquery(let inner, let range, let step, let modifiers, let id):
            return .matrix(try subquery(inner, range: range, step: step, modifiers: modifiers, id: id, t))
        case .negate(let inner, let id):
            switch try eval(inner, t) {
            case .scalar(let v): return .scalar(-v)
            case .vector(let samples):
                let out = try droppingNames(samples, id: id, t) { -$0 }
                // Prometheus checks the whole result: two series that ever give the same labels are refused.
                if table(id).collides { throw PromQLError.sameLabelSet }
                return .vector(out)
            default: throw PromQLError(.execution, "unary minus needs a scalar or an instant vector")
            }
        case .aggregate(let op, let inner, let parameter, let grouping, let id):
            return .vector(try aggregate(op, inner, parameter: parameter, grouping: grouping, id: id, t))
        case .call(let name, let args, let id):
            return try call(name, args, id: id, t)
        case .binary(let op, let lhs, let rhs, let returnBool, let matching, let id):
            return try binary(op, lhs, rhs, returnBool: returnBool, matching: matching, id: id, t)
        }
    }

    static func reference(_ m: Modifiers, _ t: Int64) -> Int64 {
        if case .time(let at) = m.at { return at &- m.offset }
        return t &- m.offset
    }

    func instantSelect(_ selector: VectorSelector, _ set: SeriesSet, _ t: Int64) -> [PromSample] {
        let ref = Self.reference(selector.modifiers, t)
        let oldest = ref &- lookback
        var out: [PromSample] = []
        out.reserveCapacity(set.count)
        set.withBuffers { offsets, times, values in
            for k in 0..<set.count {
                let j = SeriesSet.upperBound(times, offsets[k], offsets[k + 1], ref) - 1
                if j >= offsets[k], times[j] >= oldest {
                    out.append(PromSample(labels: set.labels[k], value: values[j], time: times[j], slot: k))
                }
            }
        }
        return out
    }

    func rangeSelect(_ selector: VectorSelector, _ range: Int64, _ set: SeriesSet, _ t: Int64) -> [PromRange] {
        let ref = Self.reference(selector.modifiers, t)
        var out: [PromRange] = []
        for k in 0..<set.count {
            let (lo, hi) = (set.offsets[k], set.offsets[k + 1])
            let (a, b) = set.withBuffers { _, times, _ in
                (SeriesSet.lowerBound(times, lo, hi, ref &- range), SeriesSet.upperBound(times, lo, hi, ref))
            }
            if a < b {
                out.append(
                    PromRange(labels: set.labels[k], times: set.times[a..<b], values: set.values[a..<b], slot: k))
            }
        }
        return out
    }

    func subquery(
        _ inner: PromQLNode, range: Int64, step: Int64, modifiers: Modifiers, id: Int, _ t: Int64
    ) throws(PromQLError) -> [PromRange] {
        let ref = Self.reference(modifiers, t)
        let from = ref &- range
        // A window of more steps than samples may be held is refused before it is walked (Prometheus would hold a
        // point for each).
        guard range / step < Int64(maxSamples) else { throw PromQLError.tooManySamples }
        // The first multiple of the step at or after the window's start (Go's truncating division, as Prometheus).
        var first = step * (from / step)
        if first < from { first += step }
        var cache = subqueryCache[id] ?? [:]
        var assembly = SeriesAssembly()
        var points = 0
        var ti = first
        while ti <= ref {
            try checkDeadline()
            let value: PromValue
            if let cached = cache[ti] {
                value = cached
            } else {
                value = try eval(inner, ti)
                cache[ti] = value
            }
            let samples: [PromSample]
            switch value {
            case .vector(let v): samples = v
            case .scalar(let v): samples = [PromSample(labels: .empty, value: v, time: ti)]
            default: throw PromQLError(.execution, "a subquery needs an instant vector")
            }
            points += samples.count
            guard held + points + cachedPoints <= maxSamples else { throw PromQLError.tooManySamples }
            for s in samples { assembly.append(s, at: ti) }
            ti += step
        }
        cache = cache.filter { $0.key >= first }
        subqueryCache[id] = cache
        // What the caches hold counts against the limit: each step at least one, an empty one too.
        cachedPoints -= subqueryCachePoints[id] ?? 0
        subqueryCachePoints[id] = cache.values.reduce(0) { total, value in
            if case .vector(let v) = value { return total + max(1, v.count) }
            return total + 1
        }
        cachedPoints += subqueryCachePoints[id]!
        return assembly.series.map { PromRange(labels: $0.labels, times: $0.times[...], values: $0.values[...]) }
    }

    /// Prometheus refuses a vector holding two elements with the same labels.
    func unique(_ samples: [PromSample]) throws(PromQLError) -> [PromSample] {
        guard samples.count > 1 else { return samples }
        var seen = Set<PromLabels>()
        seen.reserveCapacity(samples.count)
        for s in samples where !seen.insert(s.labels).inserted { throw PromQLError.sameLabelSet }
        return samples
    }

    func scalar(_ node: PromQLNode, _ t: Int64) throws(PromQLError) -> Double {
        guard case .scalar(let v) = try eval(node, t) else { throw PromQLError(.execution, "expected a scalar") }
        return v
    }

    func vector(_ node: PromQLNode, _ t: Int64) throws(PromQLError) -> [PromSample] {
        guard case .vector(let v) = try eval(node, t) else {
            throw PromQLError(.execution, "expected an instant vector")
        }
        return v
    }

    func regex(_ pattern: String) -> NSRegularExpression? {
        if let r = regexCache[pattern] { return r }
        let r = try? NSRegularExpression(pattern: "\\A(?:" + CompiledMatcher.icu(pattern) + ")\\z")
        regexCache[pattern] = r
        return r
    }
}
