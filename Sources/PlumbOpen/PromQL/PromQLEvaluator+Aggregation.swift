import Foundation

/// Aggregations, as Prometheus' engine defines them.
extension PromQLEvaluator {
    /// An aggregation's groups over the whole query: a group keeps its id (its output slot) at every step, and an
    /// input slot its group, so each series is grouped once.
    final class Groups {
        var keys: [PromLabels] = []
        var index: [PromLabels: Int] = [:]
        var bySlot: [Int] = []

        func id(of key: PromLabels) -> Int {
            if let found = index[key] { return found }
            keys.append(key)
            index[key] = keys.count - 1
            return keys.count - 1
        }
    }

    func groups(_ id: Int) -> Groups {
        if let found = aggregateGroups[id] { return found }
        let made = Groups()
        aggregateGroups[id] = made
        return made
    }

    func aggregate(
        _ op: AggregateOp, _ inner: PromQLNode, parameter: PromQLNode?, grouping: Grouping?, id: Int, _ t: Int64
    ) throws(PromQLError) -> [PromSample] {
        var k = 0
        var q = 0.0
        var valueLabel = ""
        if let parameter {
            switch op {
            case .topk, .bottomk:
                let f = try scalar(parameter, t)
                guard let n = Int(exactly: f.rounded(.towardZero)) else {
                    throw PromQLError(.execution, "Scalar value \(Self.format(f)) overflows int64")
                }
                k = n
            case .quantile:
                q = try scalar(parameter, t)
            case .countValues:
                guard case .string(let s) = try eval(parameter, t) else {
                    throw PromQLError(.execution, "count_values needs a string parameter")
                }
                guard PromLabels.isLabelName(s) else { throw PromQLError(.execution, "invalid label name \"\(s)\"") }
                valueLabel = s
            default: break
            }
        }
        if (op == .topk || op == .bottomk) && k < 1 {
            _ = try vector(inner, t)
            return []
        }
        var names = Set(grouping?.labels ?? [])
        let without = grouping?.without ?? false
        if op == .countValues && !without { names.insert(valueLabel) }
        let dropped = names.union([PromLabels.metricName])
        var acc = Accumulation(
            op: op, k: k, names: names, dropped: dropped, without: without, valueLabel: valueLabel,
            state: groups(id))
        // The group of each slot, copied out of the state for the loop (a class's property is checked for exclusive
        // access at every read) and put back after it.
        defer { acc.state.bySlot = acc.bySlot }
        let (keepsSamples, bySlotKnown) = (acc.keepsSamples, op != .countValues)
        // Over a selector, straight from its series: no vector is built.
        if case .vector(let selector, let i) = inner {
            let ref = Self.reference(selector.modifiers, t)
            let oldest = ref &- lookback
            let set = data[i]
            let cursor = cursors(id, count: set.count)
            let forward = ref >= cursor.reference
            var positions = cursor.positions
            set.withBuffers { offsets, times, values in
                for k in 0..<set.count {
                    let p = Cursors.bound(
                        times, offsets[k], offsets[k + 1], ref, from: forward ? positions[k] : nil, strict: true)
                    positions[k] = p
                    let j = p - 1
                    guard j >= offsets[k], times[j] >= oldest else { continue }
                    // The labels are touched only for a slot not seen yet or a sample kept whole. Fields are read,
                    // not methods called: a method of `acc` called in this closure would copy it whole.
                    var g = bySlotKnown && k < acc.bySlot.count ? acc.bySlot[k] : -1
                    if g < 0 { g = acc.group(k, set.labels[k], values[j]) }
                    if keepsSamples {
                        acc.keep(g, PromSample(labels: set.labels[k], value: values[j], time: times[j], slot: k))
                    } else {
                        acc.add(g, values[j])
                    }
                }
            }
            (cursor.positions, cursor.reference) = (positions, ref)
        } else {
            for s in try vector(inner, t) {
                var g = acc.known(s.slot)
                if g < 0 { g = acc.group(s.slot, s.labels, s.value) }
                if keepsSamples { acc.keep(g, s) } else { acc.add(g, s.value) }
            }
        }
        return acc.results(q: q, t: t)
    }

    /// One aggregation at one step: each group's running value, in the order the groups were first seen. A struct
    /// with a mutating `add`, not a local function over local variables: those would be checked for exclusive access
    /// at run time, at every sample.
    struct Accumulation {
        let op: AggregateOp
        let k: Int
        let names: Set<String>
        let dropped: Set<String>
        let without: Bool
        let valueLabel: String
        let state: Groups
        var bySlot: [Int]
        var value: [Double] = []
        var mean: [Double] = []
        var count: [Int] = []
        var seen: [Bool] = []
        var members: [[PromSample]] = []
        var order: [Int] = []

        init(
            op: AggregateOp, k: Int, names: Set<String>, dropped: Set<String>, without: Bool, valueLabel: String,
            state: Groups
        ) {
            (self.op, self.k, self.names, self.dropped) = (op, k, names, dropped)
            (self.without, self.valueLabel, self.state, self.bySlot) = (without, valueLabel, state, state.bySlot)
        }

        /// Whether `a` ranks before `b` in topk (bottomk): NaN below every number either way, as Prometheus' heaps.
        func before(_ a: Double, _ b: Double) -> Bool {
            if a.isNaN { return false }
            if b.isNaN { return true }
            return op == .topk ? a > b : a < b
        }

        /// Whether the op keeps its samples whole (topk, bottomk and quantile), not only their values.
        var keepsSamples: Bool { op == .topk || op == .bottomk || op == .quantile }

        /// The group of slot `slot` when it was seen at an earlier step; -1 otherwise (and always for count_values,
        /// whose group depends on the value).
        @inline(__always)
        func known(_ slot: Int) -> Int {
            op != .countValues && slot >= 0 && slot < bySlot.count ? bySlot[slot] : -1
        }

        /// The group of a sample from its labels, remembered for its slot.
        mutating func group(_ slot: Int, _ labels: PromLabels, _ v: Double) -> Int {
            let key: PromLabels
            if op == .countValues {
                let labels = labels.setting(valueLabel, PromQLEvaluator.format(v))
                key = without ? labels.dropping(dropped) : labels.keeping(names)
            } else if !without && names.isEmpty {
                key = .empty
            } else {
                key = without ? labels.dropping(dropped) : labels.keeping(names)
            }
            let g = state.id(of: key)
            if op != .countValues && slot >= 0 {
                if slot >= bySlot.count {
                    bySlot.append(contentsOf: repeatElement(-1, count: slot - bySlot.count + 1))
                }
                bySlot[slot] = g
            }
            return g
        }

        /// Whether group `g` was seen at this step; when not, it is made ready and marked seen.
        @inline(__always)
        mutating func first(_ g: Int) -> Bool {
            if g >= seen.count {
                let more = state.keys.count - seen.count
                value.append(contentsOf: repeatElement(0, count: more))
                mean.append(contentsOf: repeatElement(0, count: more))
                count.append(contentsOf: repeatElement(0, count: more))
                seen.append(contentsOf: repeatElement(false, count: more))
                members.append(contentsOf: repeatElement([], count: more))
            }
            if seen[g] { return false }
            seen[g] = true
            order.append(g)
            return true
        }

        /// A value into group `g`, for every op that keeps values only.
        @inline(__always)
        mutating func add(_ g: Int, _ v: Double) {
            if first(g) {
                (value[g], mean[g], count[g]) = (v, v, 1)
                switch op {
                case .stddev, .stdvar: value[g] = 0
                case .group: value[g] = 1
                default: break
                }
                return
            }
            switch op {
            case .sum: value[g] += v
            case .avg:
                count[g] += 1
                if mean[g].isInfinite {
                    if v.isInfinite && (mean[g] > 0) == (v > 0) { break }
                    if !v.isInfinite && !v.isNaN { break }
                }
                mean[g] += v / Double(count[g]) - mean[g] / Double(count[g])
            case .max: if value[g] < v || value[g].isNaN { value[g] = v }
            case .min: if value[g] > v || value[g].isNaN { value[g] = v }
            case .count, .countValues: count[g] += 1
            case .stddev, .stdvar:
                count[g] += 1
                let delta = v - mean[g]
                mean[g] += delta / Double(count[g])
                value[g] += delta * (v - mean[g])
            case .group, .topk, .bottomk, .quantile: break
            }
        }

        /// A sample into group `g`, for topk, bottomk and quantile.
        mutating func keep(_ g: Int, _ s: PromSample) {
            if first(g) {
                members[g] = [s]
                return
            }
            if op == .quantile {
                members[g].append(s)
                return
            }
            // The best k so far, best first: a sample enters where it ranks, the last one out when full.
            if members[g].count == k, let last = members[g].last, !before(s.value, last.value) { return }
            let at = members[g].firstIndex { before(s.value, $0.value) } ?? members[g].count
            members[g].insert(s, at: at)
            if members[g].count > k { members[g].removeLast() }
        }

        /// Each group's result at time `t`, in the order the groups were seen.
        func results(q: Double, t: Int64) -> [PromSample] {
            var out: [PromSample] = []
            out.reserveCapacity(order.count)
            for g in order {
                var result = value[g]
                switch op {
                case .avg: result = mean[g]
                case .count, .countValues: result = Double(count[g])
                case .stdvar: result = value[g] / Double(count[g])
                case .stddev: result = (value[g] / Double(count[g])).squareRoot()
                case .quantile: result = PromQLEvaluator.quantile(q, members[g].map(\.value))
                case .topk, .bottomk:
                    for s in members[g] {
                        out.append(PromSample(labels: s.labels, value: s.value, time: t, slot: s.slot))
                    }
                    continue
                default: break
                }
                out.append(
                    PromSample(labels: state.keys[g], value: result, time: t, slot: op == .countValues ? -1 : g))
            }
            return out
        }
    }

    /// The φ-quantile of values, interpolating between neighbours (Prometheus' `quantile`).
    static func quantile(_ q: Double, _ values: [Double]) -> Double {
        guard !values.isEmpty, !q.isNaN else { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let sorted = values.sorted { a, b in a.isNaN ? !b.isNaN : a < b }
        let n = Double(sorted.count)
        let rank = q * (n - 1)
        let lower = max(0, rank.rounded(.down))
        let upper = min(n - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
    }
}
