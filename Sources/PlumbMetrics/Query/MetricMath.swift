import Foundation

/// Metric math (CloudWatch GetMetricData): expressions over the ids of other queries in the same request, one
/// period, one time range.
///
/// - Operators `+ - * /`, unary `-`, numbers, parentheses, lists `[a, b]`.
/// - Between two series a timestamp missing in one counts as 0; missing in both stays missing. A division by zero
///   (or any result that is not finite) drops the point.
/// - `FILL(m, value | REPEAT | LINEAR)` fills the periods of the range where `m` has no value: with a constant,
///   the last earlier value, or a straight line between the values either side (gaps at the edges stay).
/// - `RATE(m)`: per second, (value − previous value) / seconds between them; `DIFF(m)`: value − previous value;
///   `RUNNING_SUM(m)`.
/// - `SUM`, `AVG`, `MAX`, `MIN` of a list: per timestamp over the members that have a value there; of one series:
///   a single number over all its points.
/// - `ABS(m)`.
public enum MetricMath {
    /// A parsed expression.
    public indirect enum Expression: Sendable, Equatable {
        case number(Double)
        case reference(String)
        case negate(Expression)
        case binary(Character, Expression, Expression)
        case call(String, [Expression])
        case list([Expression])
        /// `REPEAT` and `LINEAR`, the bare words FILL takes.
        case keyword(String)

        /// Levels of the tree, counted without recursion (the tree may be too deep to recurse over).
        public var height: Int {
            var deepest = 0
            var pending: [(Expression, Int)] = [(self, 1)]
            while let (node, depth) = pending.popLast() {
                deepest = max(deepest, depth)
                switch node {
                case .number, .keyword, .reference: break
                case .negate(let e): pending.append((e, depth + 1))
                case .binary(_, let l, let r): pending.append(contentsOf: [(l, depth + 1), (r, depth + 1)])
                case .call(_, let args), .list(let args): pending.append(contentsOf: args.map { ($0, depth + 1) })
                }
            }
            return deepest
        }

        /// Every id the expression reads.
        public var references: Set<String> {
            switch self {
            case .number, .keyword: []
            case .reference(let id): [id]
            case .negate(let e): e.references
            case .binary(_, let l, let r): l.references.union(r.references)
            case .call(_, let args), .list(let args): args.reduce(into: Set<String>()) { $0.formUnion($1.references) }
            }
        }
    }

    /// A value: one number, a series (timestamp → value, missing periods absent), or a list of series.
    public enum Value: Sendable, Equatable {
        case scalar(Double)
        case series([Int64: Double])
        case list([[Int64: Double]])
    }

    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public let message: String
        /// 1-based character position in the expression.
        public let position: Int
        public var description: String { "\(message) at character \(position)" }
    }

    public static let functions: Set<String> = ["FILL", "RATE", "DIFF", "RUNNING_SUM", "SUM", "AVG", "MAX", "MIN", "ABS"]

    // MARK: Parsing

    /// Longest expression, in characters (CloudWatch's limit for an `Expression`).
    public static let maxLength = 2_048
    /// Deepest expression tree: parsing, `references` and evaluation recurse once per level, so a hostile
    /// `((((…` or `a+a+a+…` must not reach the stack's end.
    public static let maxDepth = 100

    public static func parse(_ text: String) throws -> Expression {
        guard text.count <= maxLength else {
            throw SyntaxError(message: "the expression is longer than \(maxLength) characters", position: maxLength + 1)
        }
        var parser = Parser(Array(text))
        let expression = try parser.expression()
        parser.skip()
        guard parser.i == parser.chars.count else { throw SyntaxError(message: "unexpected '\(parser.chars[parser.i])'", position: parser.i + 1) }
        guard expression.height <= maxDepth else {
            throw SyntaxError(message: "the expression nests deeper than \(maxDepth) levels (operators and parentheses)", position: 1)
        }
        return expression
    }

    struct Parser {
        let chars: [Character]
        var i = 0
        var depth = 0

        init(_ chars: [Character]) { self.chars = chars }

        mutating func skip() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

        mutating func expression() throws -> Expression {
            var left = try term()
            while true {
                skip()
                guard i < chars.count, chars[i] == "+" || chars[i] == "-" else { return left }
                let op = chars[i]
                i += 1
                left = .binary(op, left, try term())
            }
        }

        mutating func term() throws -> Expression {
            var left = try unary()
            while true {
                skip()
                guard i < chars.count, chars[i] == "*" || chars[i] == "/" else { return left }
                let op = chars[i]
                i += 1
                left = .binary(op, left, try unary())
            }
        }

        mutating func unary() throws -> Expression {
            // Every level of nesting passes here: refuse before the recursion gets deep.
            depth += 1
            defer { depth -= 1 }
            guard depth <= MetricMath.maxDepth else {
                throw SyntaxError(message: "the expression nests deeper than \(MetricMath.maxDepth) levels", position: i + 1)
            }
            skip()
            if i < chars.count, chars[i] == "-" {
                i += 1
                return .negate(try unary())
            }
            return try primary()
        }

        mutating func primary() throws -> Expression {
            skip()
            guard i < chars.count else { throw SyntaxError(message: "the expression ends early", position: i + 1) }
            let c = chars[i]
            if c == "(" {
                i += 1
                let inner = try expression()
                try expect(")")
                return inner
            }
            if c == "[" {
                i += 1
                return .list(try arguments(closing: "]"))
            }
            if c.isNumber || c == "." {
                let start = i
                while i < chars.count, chars[i].isNumber || chars[i] == "." { i += 1 }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    i += 1
                    if i < chars.count, chars[i] == "+" || chars[i] == "-" { i += 1 }
                    while i < chars.count, chars[i].isNumber { i += 1 }
                }
                guard let value = Double(String(chars[start..<i])) else {
                    throw SyntaxError(message: "'\(String(chars[start..<i]))' is not a number", position: start + 1)
                }
                return .number(value)
            }
            if c.isLetter || c == "_" {
                let start = i
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
                let word = String(chars[start..<i])
                skip()
                if i < chars.count, chars[i] == "(" {
                    guard MetricMath.functions.contains(word.uppercased()) else {
                        throw SyntaxError(message: "unknown function \(word); functions: \(MetricMath.functions.sorted().joined(separator: ", "))", position: start + 1)
                    }
                    i += 1
                    return .call(word.uppercased(), try arguments(closing: ")"))
                }
                if word == "REPEAT" || word == "LINEAR" { return .keyword(word) }
                return .reference(word)
            }
            throw SyntaxError(message: "unexpected '\(c)'", position: i + 1)
        }

        mutating func arguments(closing: Character) throws -> [Expression] {
            var items: [Expression] = []
            skip()
            if i < chars.count, chars[i] == closing {
                i += 1
                return items
            }
            while true {
                items.append(try expression())
                skip()
                guard i < chars.count else { throw SyntaxError(message: "missing '\(closing)'", position: i + 1) }
                if chars[i] == "," {
                    i += 1
                    continue
                }
                try expect(closing)
                return items
            }
        }

        mutating func expect(_ c: Character) throws {
            skip()
            guard i < chars.count, chars[i] == c else {
                throw SyntaxError(message: i < chars.count ? "expected '\(c)', found '\(chars[i])'" : "missing '\(c)'", position: i + 1)
            }
            i += 1
        }
    }

    // MARK: Evaluation

    public struct EvaluationError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Evaluates `expression` with `lookup` giving the value of an id, on the periods `grid` (ascending; FILL
    /// fills these).
    public static func evaluate(_ expression: Expression, grid: [Int64], lookup: (String) throws -> Value) throws -> Value {
        switch expression {
        case .number(let x): return .scalar(x)
        case .keyword(let word): throw EvaluationError(message: "\(word) is only an argument of FILL")
        case .reference(let id): return try lookup(id)
        case .negate(let e): return try apply("*", .scalar(-1), try evaluate(e, grid: grid, lookup: lookup))
        case .binary(let op, let l, let r):
            return try apply(op, try evaluate(l, grid: grid, lookup: lookup), try evaluate(r, grid: grid, lookup: lookup))
        case .list(let items):
            return .list(try items.map { item -> [Int64: Double] in
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
            return .list(try items.map { item in
                guard case .series(let s) = try apply(op, .series(item), other) else { return [:] }
                return s
            })
        case (let other, .list(let items)):
            return .list(try items.map { item in
                guard case .series(let s) = try apply(op, other, .series(item)) else { return [:] }
                return s
            })
        }
    }

    static func series(_ value: Value, _ function: String) throws -> [Int64: Double] {
        guard case .series(let s) = value else { throw EvaluationError(message: "\(function) takes a series") }
        return s
    }

    static func call(_ name: String, _ args: [Expression], grid: [Int64], lookup: (String) throws -> Value) throws -> Value {
        func arity(_ n: Int) throws {
            guard args.count == n else { throw EvaluationError(message: "\(name) takes \(n) argument\(n == 1 ? "" : "s"), not \(args.count)") }
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
            let value = args.count == 1 ? try evaluate(args[0], grid: grid, lookup: lookup) : try evaluate(.list(args), grid: grid, lookup: lookup)
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
