import Foundation

/// Binary operators, and how Prometheus prints a value.
extension PromQLEvaluator {
    static func arithmetic(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
        switch op {
        case .add: a + b
        case .sub: a - b
        case .mul: a * b
        case .div: a / b
        case .pow: Foundation.pow(a, b)
        case .mod: fmod(a, b)
        case .atan2: Foundation.atan2(a, b)
        case .eq: a == b ? 1 : 0
        case .ne: a != b ? 1 : 0
        case .gt: a > b ? 1 : 0
        case .lt: a < b ? 1 : 0
        case .ge: a >= b ? 1 : 0
        case .le: a <= b ? 1 : 0
        case .and, .or, .unless: .nan
        }
    }

    /// A vector element's operation: the value, and for comparisons whether the element is kept (then the value is
    /// the left-hand side's).
    static func element(_ op: BinaryOp, _ a: Double, _ b: Double) -> (Double, Bool) {
        switch op {
        case .eq: (a, a == b)
        case .ne: (a, a != b)
        case .gt: (a, a > b)
        case .lt: (a, a < b)
        case .ge: (a, a >= b)
        case .le: (a, a <= b)
        default: (arithmetic(op, a, b), true)
        }
    }

    static func dropsName(_ op: BinaryOp) -> Bool {
        switch op {
        case .add, .sub, .mul, .div, .pow, .mod: true
        default: false
        }
    }

    func binary(
        _ op: BinaryOp, _ lhsNode: PromQLNode, _ rhsNode: PromQLNode, returnBool: Bool, matching: VectorMatching?,
        id: Int, _ t: Int64
    ) throws(PromQLError) -> PromValue {
        let lhs = try eval(lhsNode, t)
        let rhs = try eval(rhsNode, t)
        switch (lhs, rhs) {
        case (.scalar(let a), .scalar(let b)):
            return .scalar(Self.arithmetic(op, a, b))
        case (.vector(let v), .scalar(let s)):
            return .vector(
                try unique(scalarOperation(op, v, s, swap: false, returnBool: returnBool, id: id, t), table(id)))
        case (.scalar(let s), .vector(let v)):
            return .vector(
                try unique(scalarOperation(op, v, s, swap: true, returnBool: returnBool, id: id, t), table(id)))
        case (.vector(let a), .vector(let b)):
            let matching = matching ?? VectorMatching()
            switch op {
            case .and, .or, .unless: return .vector(try unique(setOperation(op, a, b, matching, id: id)))
            default: return .vector(try unique(vectorOperation(op, a, b, matching, returnBool: returnBool, id: id, t)))
            }
        default:
            throw PromQLError(.execution, "operator \(op.rawValue) needs scalars or instant vectors")
        }
    }

    func scalarOperation(
        _ op: BinaryOp, _ vector: [PromSample], _ scalar: Double, swap: Bool, returnBool: Bool, id: Int, _ t: Int64
    ) -> [PromSample] {
        let table = table(id)
        var out: [PromSample] = []
        out.reserveCapacity(vector.count)
        for sample in vector {
            let (l, r) = swap ? (scalar, sample.value) : (sample.value, scalar)
            var (value, keep) = Self.element(op, l, r)
            // A comparison keeps the vector's value even when the scalar is on the left.
            if op.isComparison && swap { value = r }
            if returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { continue }
            let labels =
                Self.dropsName(op) || returnBool ? derive(table, 0, sample) { $0.withoutName } : sample.labels
            out.append(PromSample(labels: labels, value: value, time: t, slot: sample.slot))
        }
        return out
    }

    /// The labels two elements are matched on; `side` 0 is the left-hand side's, 1 the right's.
    func signature(_ sample: PromSample, side: Int, _ matching: VectorMatching, id: Int) -> PromLabels {
        derive(table(id, side), id, sample) { labels in
            if matching.on { return labels.keeping(Set(matching.labels)) }
            return labels.dropping(Set(matching.labels + [PromLabels.metricName]))
        }
    }

    func setOperation(
        _ op: BinaryOp, _ lhs: [PromSample], _ rhs: [PromSample], _ matching: VectorMatching, id: Int
    ) -> [PromSample] {
        switch op {
        case .and:
            guard !lhs.isEmpty, !rhs.isEmpty else { return [] }
            let right = Set(rhs.map { signature($0, side: 1, matching, id: id) })
            return lhs.filter { right.contains(signature($0, side: 0, matching, id: id)) }
        case .or:
            // The two sides' slots numbered apart, densely: one output slot per (side, input slot) ever seen.
            let pairs = pairTable(id)
            func renumbered(_ s: PromSample, side: Int) -> PromSample {
                guard s.slot >= 0, s.slot < 1 << 40 else {
                    return PromSample(labels: s.labels, value: s.value, time: s.time)
                }
                var s = s
                let key = s.slot << 1 | side
                if let found = pairs.slots[key] {
                    s.slot = found.1
                } else {
                    let slot = pairs.slots.count
                    pairs.slots[key] = (s.labels, slot)
                    s.slot = slot
                }
                return s
            }
            func left(_ s: PromSample) -> PromSample { renumbered(s, side: 0) }
            func right(_ s: PromSample) -> PromSample { renumbered(s, side: 1) }
            guard !lhs.isEmpty else { return rhs.map(right) }
            guard !rhs.isEmpty else { return lhs.map(left) }
            let seen = Set(lhs.map { signature($0, side: 0, matching, id: id) })
            return lhs.map(left) + rhs.filter { !seen.contains(signature($0, side: 1, matching, id: id)) }.map(right)
        default:
            guard !lhs.isEmpty, !rhs.isEmpty else { return lhs }
            let right = Set(rhs.map { signature($0, side: 1, matching, id: id) })
            return lhs.filter { !right.contains(signature($0, side: 0, matching, id: id)) }
        }
    }

    func vectorOperation(
        _ op: BinaryOp, _ lhsIn: [PromSample], _ rhsIn: [PromSample], _ matching: VectorMatching, returnBool: Bool,
        id: Int, _ t: Int64
    ) throws(PromQLError) -> [PromSample] {
        guard !lhsIn.isEmpty, !rhsIn.isEmpty else { return [] }
        // One-to-many is many-to-one with the sides swapped; values are swapped back for the operation.
        let swapped = matching.cardinality == .oneToMany
        let (many, one) = swapped ? (rhsIn, lhsIn) : (lhsIn, rhsIn)
        var oneBySignature: [PromLabels: PromSample] = [:]
        oneBySignature.reserveCapacity(one.count)
        let (manySide, oneSide) = swapped ? (1, 0) : (0, 1)
        for sample in one {
            let signature = signature(sample, side: oneSide, matching, id: id)
            if let duplicate = oneBySignature[signature] {
                let side = swapped ? "left" : "right"
                let group = matching.on ? sample.labels.keeping(Set(matching.labels)) : signature
                throw PromQLError(
                    .execution,
                    "found duplicate series for the match group \(group) on the \(side) hand-side of the operation: "
                        + "[\(sample.labels), \(duplicate.labels)];many-to-many matching not allowed: matching labels "
                        + "must be unique on one side")
            }
            oneBySignature[signature] = sample
        }
        var matchedOnce = Set<PromLabels>()
        var matched: [PromLabels: Set<PromLabels>] = [:]
        let pairs = pairTable(id)
        var out: [PromSample] = []
        for sample in many {
            let signature = signature(sample, side: manySide, matching, id: id)
            guard let other = oneBySignature[signature] else { continue }
            let (l, r) = swapped ? (other.value, sample.value) : (sample.value, other.value)
            var (value, keep) = Self.element(op, l, r)
            if returnBool {
                value = keep ? 1 : 0
            } else if !keep {
                continue
            }
            // The result's labels, and its slot: one per pair of slots that ever met.
            var labels: PromLabels
            var slot = -1
            let both = sample.slot >= 0 && other.slot >= 0 && sample.slot < 1 << 31 && other.slot < 1 << 31
            let pairKey = both ? sample.slot << 32 | other.slot : 0
            if both, let found = pairs.slots[pairKey] {
                (labels, slot) = found
            } else {
                let key = PairKey(id: id, a: sample.labels, b: other.labels)
                if let found = paired[key] {
                    labels = found
                } else {
                    labels = resultLabels(sample.labels, other.labels, op, matching)
                    if returnBool { labels = labels.withoutName }
                    paired[key] = labels
                }
                if both {
                    slot = pairs.slots.count
                    pairs.slots[pairKey] = (labels, slot)
                }
            }
            if matching.cardinality == .oneToOne {
                if !matchedOnce.insert(signature).inserted {
                    throw PromQLError(
                        .execution,
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
            } else if matched[signature, default: []].insert(labels).inserted == false {
                throw PromQLError(.execution, "multiple matches for labels: grouping labels must ensure unique matches")
            }
            out.append(PromSample(labels: labels, value: value, time: t, slot: slot))
        }
        return out
    }

    final class PairSlots {
        var slots: [Int: (PromLabels, Int)] = [:]
    }

    func pairTable(_ id: Int) -> PairSlots {
        if let found = pairSlots[id] { return found }
        let made = PairSlots()
        pairSlots[id] = made
        return made
    }

    func resultLabels(_ lhs: PromLabels, _ rhs: PromLabels, _ op: BinaryOp, _ matching: VectorMatching) -> PromLabels {
        var labels = Self.dropsName(op) ? lhs.withoutName : lhs
        if matching.cardinality == .oneToOne {
            labels = matching.on ? labels.keeping(Set(matching.labels)) : labels.dropping(Set(matching.labels))
        }
        // `group_x(…)` labels come from the "one" side.
        for name in matching.include {
            labels = labels.setting(name, rhs.get(name))
        }
        return labels
    }

    /// A value as Prometheus prints it (Go's `strconv.FormatFloat(v, 'f', -1, 64)`): shortest digits, no exponent.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == 0 { return v.sign == .minus ? "-0" : "0" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let text = v.description
        // Most values have no exponent: their shortest digits are Prometheus' already.
        guard text.utf8.contains(UInt8(ascii: "e")) else { return text }
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        let mantissa = text[..<e]
        guard let exponent = Int(text[text.index(after: e)...]) else { return text }
        let negative = mantissa.hasPrefix("-")
        let digits = mantissa.replacingOccurrences(of: "-", with: "")
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        var all = whole + fraction
        var point = whole.count + exponent
        if point <= 0 {
            all = String(repeating: "0", count: -point + 1) + all
            point = 1
        } else if point > all.count {
            all += String(repeating: "0", count: point - all.count)
        }
        let head = String(all.prefix(point))
        var tail = String(all.dropFirst(point))
        while tail.hasSuffix("0") { tail.removeLast() }
        return (negative ? "-" : "") + head + (tail.isEmpty ? "" : "." + tail)
    }
}
