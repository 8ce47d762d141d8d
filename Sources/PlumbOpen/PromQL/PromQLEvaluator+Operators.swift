import Foundation

/// Binary operators and aggregations, as Prometheus' engine defines them.
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
            return .vector(try unique(scalarOperation(op, v, s, swap: false, returnBool: returnBool, t)))
        case (.scalar(let s), .vector(let v)):
            return .vector(try unique(scalarOperation(op, v, s, swap: true, returnBool: returnBool, t)))
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
        _ op: BinaryOp, _ vector: [PromSample], _ scalar: Double, swap: Bool, returnBool: Bool, _ t: Int64
    ) -> [PromSample] {
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
            let labels = Self.dropsName(op) || returnBool ? dropName(sample.labels) : sample.labels
            out.append(PromSample(labels: labels, value: value, time: t))
        }
        return out
    }

    /// The labels two elements are matched on.
    func signature(_ labels: PromLabels, _ matching: VectorMatching, id: Int) -> PromLabels {
        derive(id, labels) { labels in
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
            let right = Set(rhs.map { signature($0.labels, matching, id: id) })
            return lhs.filter { right.contains(signature($0.labels, matching, id: id)) }
        case .or:
            guard !lhs.isEmpty else { return rhs }
            guard !rhs.isEmpty else { return lhs }
            let left = Set(lhs.map { signature($0.labels, matching, id: id) })
            return lhs + rhs.filter { !left.contains(signature($0.labels, matching, id: id)) }
        default:
            guard !lhs.isEmpty, !rhs.isEmpty else { return lhs }
            let right = Set(rhs.map { signature($0.labels, matching, id: id) })
            return lhs.filter { !right.contains(signature($0.labels, matching, id: id)) }
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
        for sample in one {
            let signature = signature(sample.labels, matching, id: id)
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
        var matched: [PromLabels: Set<PromLabels>] = [:]
        var out: [PromSample] = []
        for sample in many {
            let signature = signature(sample.labels, matching, id: id)
            guard let other = oneBySignature[signature] else { continue }
            let (l, r) = swapped ? (other.value, sample.value) : (sample.value, other.value)
            var (value, keep) = Self.element(op, l, r)
            if returnBool {
                value = keep ? 1 : 0
            } else if !keep {
                continue
            }
            let key = PairKey(id: id, a: sample.labels, b: other.labels)
            var labels: PromLabels
            if let found = paired[key] {
                labels = found
            } else {
                labels = resultLabels(sample.labels, other.labels, op, matching)
                if returnBool { labels = labels.withoutName }
                paired[key] = labels
            }
            if matching.cardinality == .oneToOne {
                if matched[signature] != nil {
                    throw PromQLError(
                        .execution,
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
                matched[signature] = []
            } else if matched[signature, default: []].insert(labels).inserted == false {
                throw PromQLError(.execution, "multiple matches for labels: grouping labels must ensure unique matches")
            }
            out.append(PromSample(labels: labels, value: value, time: t))
        }
        return out
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

    // MARK: Aggregations

    final class Group {
        var labels: PromLabels
        var value: Double
        var mean: Double
        var count = 1
        var members: [PromSample] = []

        init(labels: PromLabels, value: Double) {
            self.labels = labels
            self.value = value
            self.mean = value
        }
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
                guard f.isFinite || f.isNaN, f > -9.223372036854775e18, f < 9.223372036854775e18 else {
                    throw PromQLError(.execution, "Scalar value \(Self.format(f)) overflows int64")
                }
                guard !f.isNaN else { throw PromQLError(.execution, "Scalar value NaN overflows int64") }
                k = Int(f.rounded(.towardZero))
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
        let vector = try vector(inner, t)
        if (op == .topk || op == .bottomk) && k < 1 { return [] }
        var names = Set(grouping?.labels ?? [])
        let without = grouping?.without ?? false
        if op == .countValues && !without { names.insert(valueLabel) }
        var groups: [PromLabels: Group] = [:]
        var ordered: [Group] = []
        let dropped = names.union([PromLabels.metricName])
        for var s in vector {
            let key: PromLabels
            if op == .countValues {
                s.labels = s.labels.setting(valueLabel, Self.format(s.value))
                key = without ? s.labels.dropping(dropped) : s.labels.keeping(names)
            } else if !without && names.isEmpty {
                key = .empty
            } else {
                key = derive(id, s.labels) { without ? $0.dropping(dropped) : $0.keeping(names) }
            }
            guard let group = groups[key] else {
                let group = Group(labels: key, value: s.value)
                switch op {
                case .stddev, .stdvar: group.value = 0
                case .group: group.value = 1
                case .topk, .bottomk, .quantile: group.members = [s]
                default: break
                }
                groups[key] = group
                ordered.append(group)
                continue
            }
            switch op {
            case .sum: group.value += s.value
            case .avg:
                group.count += 1
                if group.mean.isInfinite {
                    if s.value.isInfinite && (group.mean > 0) == (s.value > 0) { break }
                    if !s.value.isInfinite && !s.value.isNaN { break }
                }
                group.mean += s.value / Double(group.count) - group.mean / Double(group.count)
            case .group: break
            case .max: if group.value < s.value || group.value.isNaN { group.value = s.value }
            case .min: if group.value > s.value || group.value.isNaN { group.value = s.value }
            case .count, .countValues: group.count += 1
            case .stddev, .stdvar:
                group.count += 1
                let delta = s.value - group.mean
                group.mean += delta / Double(group.count)
                group.value += delta * (s.value - group.mean)
            case .topk, .bottomk, .quantile: group.members.append(s)
            }
        }
        var out: [PromSample] = []
        for group in ordered {
            var value = group.value
            switch op {
            case .avg: value = group.mean
            case .count, .countValues: value = Double(group.count)
            case .stdvar: value = group.value / Double(group.count)
            case .stddev: value = (group.value / Double(group.count)).squareRoot()
            case .quantile: value = Self.quantile(q, group.members.map(\.value))
            case .topk, .bottomk:
                // NaN ranks below every number either way, as in Prometheus' heaps.
                let ranked = group.members.sorted { a, b in
                    if op == .topk {
                        if a.value.isNaN { return false }
                        return b.value.isNaN || a.value > b.value
                    }
                    if a.value.isNaN { return false }
                    return b.value.isNaN || a.value < b.value
                }
                for s in ranked.prefix(k) { out.append(PromSample(labels: s.labels, value: s.value, time: t)) }
                continue
            default: break
            }
            out.append(PromSample(labels: group.labels, value: value, time: t))
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

    /// A value as Prometheus prints it (Go's `strconv.FormatFloat(v, 'f', -1, 64)`): shortest digits, no exponent.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        let text = "\(v)"
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
