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
        let state = groups(id)
        var value: [Double] = []
        var mean: [Double] = []
        var count: [Int] = []
        var seen: [Bool] = []
        var members: [[PromSample]] = []
        var order: [Int] = []
        /// Whether `a` ranks before `b` in topk (bottomk): NaN below every number either way, as Prometheus' heaps.
        func before(_ a: Double, _ b: Double) -> Bool {
            if a.isNaN { return false }
            if b.isNaN { return true }
            return op == .topk ? a > b : a < b
        }
        // The group of each slot, copied out of the state for the loop (a class's property is checked for exclusive
        // access at every read) and put back after it.
        var bySlot = state.bySlot
        defer { state.bySlot = bySlot }
        /// `labelsOf` is only called when the labels are needed: a new slot, or a sample kept whole (topk).
        func add(_ slot: Int, _ labelsOf: @autoclosure () -> PromLabels, _ v: Double, _ time: Int64) {
            var g = -1
            if op != .countValues, slot >= 0, slot < bySlot.count { g = bySlot[slot] }
            if g < 0 {
                var labels = labelsOf()
                let key: PromLabels
                if op == .countValues {
                    labels = labels.setting(valueLabel, Self.format(v))
                    key = without ? labels.dropping(dropped) : labels.keeping(names)
                } else if !without && names.isEmpty {
                    key = .empty
                } else {
                    key = without ? labels.dropping(dropped) : labels.keeping(names)
                }
                g = state.id(of: key)
                if op != .countValues && slot >= 0 {
                    if slot >= bySlot.count {
                        bySlot.append(contentsOf: repeatElement(-1, count: slot - bySlot.count + 1))
                    }
                    bySlot[slot] = g
                }
            }
            if g >= seen.count {
                let more = state.keys.count - seen.count
                value.append(contentsOf: repeatElement(0, count: more))
                mean.append(contentsOf: repeatElement(0, count: more))
                count.append(contentsOf: repeatElement(0, count: more))
                seen.append(contentsOf: repeatElement(false, count: more))
                members.append(contentsOf: repeatElement([], count: more))
            }
            guard seen[g] else {
                seen[g] = true
                order.append(g)
                (value[g], mean[g], count[g]) = (v, v, 1)
                switch op {
                case .stddev, .stdvar: value[g] = 0
                case .group: value[g] = 1
                case .topk, .bottomk, .quantile:
                    members[g] = [PromSample(labels: labelsOf(), value: v, time: time, slot: slot)]
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
            case .group: break
            case .max: if value[g] < v || value[g].isNaN { value[g] = v }
            case .min: if value[g] > v || value[g].isNaN { value[g] = v }
            case .count, .countValues: count[g] += 1
            case .stddev, .stdvar:
                count[g] += 1
                let delta = v - mean[g]
                mean[g] += delta / Double(count[g])
                value[g] += delta * (v - mean[g])
            case .quantile: members[g].append(PromSample(labels: labelsOf(), value: v, time: time, slot: slot))
            case .topk, .bottomk:
                // The best k so far, best first: a sample enters where it ranks, the last one out when full.
                if members[g].count == k, let last = members[g].last, !before(v, last.value) { break }
                let at = members[g].firstIndex { before(v, $0.value) } ?? members[g].count
                members[g].insert(PromSample(labels: labelsOf(), value: v, time: time, slot: slot), at: at)
                if members[g].count > k { members[g].removeLast() }
            }
        }
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
                    if j >= offsets[k], times[j] >= oldest { add(k, set.labels[k], values[j], times[j]) }
                }
            }
            (cursor.positions, cursor.reference) = (positions, ref)
        } else {
            for s in try vector(inner, t) { add(s.slot, s.labels, s.value, s.time) }
        }
        var out: [PromSample] = []
        out.reserveCapacity(order.count)
        for g in order {
            var result = value[g]
            switch op {
            case .avg: result = mean[g]
            case .count, .countValues: result = Double(count[g])
            case .stdvar: result = value[g] / Double(count[g])
            case .stddev: result = (value[g] / Double(count[g])).squareRoot()
            case .quantile: result = Self.quantile(q, members[g].map(\.value))
            case .topk, .bottomk:
                for s in members[g] { out.append(PromSample(labels: s.labels, value: s.value, time: t, slot: s.slot)) }
                continue
            default: break
            }
            out.append(PromSample(labels: state.keys[g], value: result, time: t, slot: op == .countValues ? -1 : g))
        }
        return out
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
