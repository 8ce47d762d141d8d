import PlumbAPI

/// Metric math's evaluation (the syntax and the parser are PlumbAPI's `MetricMath`): values over the periods of a
/// request's range.
extension MetricMath {
    /// A value: one number, a series (timestamp → value, missing periods absent), or a list of series.
    public enum Value: Sendable, Equatable {
        case scalar(Double)
        case series([Int64: Double])
        case list([[Int64: Double]])
    }

    public struct EvaluationError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Evaluates `expression` with `lookup` giving the value of an id, on the periods `grid` (ascending; FILL
    /// fills these).
    public static func evaluate(
        _ expression: Expression, grid: [Int64], lookup: (String) throws -> Value
    ) throws -> Value {
        switch expression {
        case .number(let x): return .scalar(x)
        case .keyword(let word): throw EvaluationError(message: "\(word) is only an argument of FILL")
        case .reference(let id): return try lookup(id)
        case .negate(let e): return try apply("*", .scalar(-1), try evaluate(e, grid: grid, lookup: lookup))
        case .binary(let op, let l, let r):
            return try apply(
                op, try evaluate(l, grid: grid, lookup: lookup), try evaluate(r, grid: grid, lookup: lookup))
        case .list(let items):
            return .list(
                try items.map { item -> [Int64: Double] in
                    guard case .series(let s) = try evaluate(item, grid: grid, lookup: lookup) else {
                        throw EvaluationError(message: "a list holds series, not numbers or lists")
                    }
                    return s
                })
        case .call(let name, let args):
            return try call(name, args, grid: grid, lookup: lookup)
        }
    }

    static func combine(_ op: Character, _ a: Double, _ b: Double) -> Double? {
        let r: Double
        switch op {
        case "+": r = a + b
        case "-": r = a - b
        case "*": r = a * b
        default:
            guard b != 0 else { return nil }
            r = a / b
        }
        return r.isFinite ? r : nil
    }

    static func apply(_ op: Character, _ left: Value, _ right: Value) throws -> Value {
        switch (left, right) {
        case (.scalar(let a), .scalar(let b)):
            guard let r = combine(op, a, b) else { throw EvaluationError(message: "\(a) \(op) \(b) has no value") }
            return .scalar(r)
        case (.series(let s), .scalar(let b)):
            return .series(s.compactMapValues { combine(op, $0, b) })
        case (.scalar(let a), .series(let s)):
            return .series(s.compactMapValues { combine(op, a, $0) })
        case (.series(let x), .series(let y)):
            var out: [Int64: Double] = [:]
            for t in Set(x.keys).union(y.keys) {
                if let r = combine(op, x[t] ?? 0, y[t] ?? 0) { out[t] = r }
            }
            return .series(out)
        case (.list(let items), let other):
            return .list(
                try items.map { item in
                    guard case .series(let s) = try apply(op, .series(item), other) else { return [:] }
                    return s
                })
        case (let other, .list(let items)):
            return .list(
                try items.map { item in
                    guard case .series(let s) = try apply(op, other, .series(item)) else { return [:] }
                    return s
                })
        }
    }

    static func series(_ value: Value, _ function: String) throws -> [Int64: Double] {
        guard case .series(let s) = value else { throw EvaluationError(message: "\(function) takes a series") }
        return s
    }

    static func call(
        _ name: String, _ args: [Expression], grid: [Int64], lookup: (String) throws -> Value
    ) throws -> Value {
        func arity(_ n: Int) throws {
            guard args.count == n else {
                throw EvaluationError(message: "\(name) takes \(n) argument\(n == 1 ? "" : "s"), not \(args.count)")
            }
        }
        switch name {
        case "FILL":
            try arity(2)
            let s = try series(try evaluate(args[0], grid: grid, lookup: lookup), name)
            var out = s
            switch args[1] {
            case .keyword("REPEAT"):
                var last: Double?
                for t in grid {
                    if let v = s[t] { last = v } else if let last { out[t] = last }
                }
            case .keyword("LINEAR"):
                let known = grid.filter { s[$0] != nil }
                for (a, b) in zip(known, known.dropFirst()) where b - a > 0 {
                    let (va, vb) = (s[a]!, s[b]!)
                    for t in grid where t > a && t < b { out[t] = va + (vb - va) * Double(t - a) / Double(b - a) }
                }
            default:
                guard case .scalar(let fill) = try evaluate(args[1], grid: grid, lookup: lookup) else {
                    throw EvaluationError(message: "FILL's second argument is a number, REPEAT or LINEAR")
                }
                for t in grid where s[t] == nil { out[t] = fill }
            }
            return .series(out)
        case "RATE", "DIFF":
            try arity(1)
            let s = try series(try evaluate(args[0], grid: grid, lookup: lookup), name)
            let times = s.keys.sorted()
            var out: [Int64: Double] = [:]
            for (a, b) in zip(times, times.dropFirst()) {
                let d = s[b]! - s[a]!
                out[b] = name == "DIFF" ? d : d / Double(b - a)
            }
            return .series(out)
        case "RUNNING_SUM":
            try arity(1)
            let s = try series(try evaluate(args[0], grid: grid, lookup: lookup), name)
            var total = 0.0
            var out: [Int64: Double] = [:]
            for t in s.keys.sorted() {
                total += s[t]!
                out[t] = total
            }
            return .series(out)
        case "ABS":
            try arity(1)
            switch try evaluate(args[0], grid: grid, lookup: lookup) {
            case .scalar(let x): return .scalar(abs(x))
            case .series(let s): return .series(s.mapValues(abs))
            case .list(let l): return .list(l.map { $0.mapValues(abs) })
            }
        default:
            // SUM, AVG, MAX, MIN: of a list per timestamp, of a series to one number; several arguments are a list.
            let value =
                args.count == 1
                ? try evaluate(args[0], grid: grid, lookup: lookup)
                : try evaluate(.list(args), grid: grid, lookup: lookup)
            func reduce(_ values: [Double]) -> Double? {
                guard !values.isEmpty else { return nil }
                switch name {
                case "SUM": return values.reduce(0, +)
                case "AVG": return values.reduce(0, +) / Double(values.count)
                case "MAX": return values.max()
                default: return values.min()
                }
            }
            switch value {
            case .scalar(let x): return .scalar(x)
            case .series(let s):
                guard let r = reduce(Array(s.values)) else { return .series([:]) }
                return .scalar(r)
            case .list(let items):
                var out: [Int64: Double] = [:]
                for t in items.reduce(into: Set<Int64>(), { $0.formUnion($1.keys) }) {
                    if let r = reduce(items.compactMap { $0[t] }) { out[t] = r }
                }
                return .series(out)
            }
        }
    }
}
