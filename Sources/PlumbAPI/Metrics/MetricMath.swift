/// Metric math (CloudWatch GetMetricData): expressions over the ids of other queries in the same request, one
/// period, one time range.
///
/// The syntax is part of the wire model (a request, an alert file or a dashboard is refused for an expression that
/// does not parse); the evaluation lives with the metric store (PlumbMetrics' `MetricMath+Evaluation`).
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

        /// The same expression reading `rename(id)` wherever it read `id` (a dashboard prefixes each widget's ids
        /// so that the widgets of a page share one request).
        public func renamingReferences(_ rename: (String) -> String) -> Expression {
            switch self {
            case .number, .keyword: self
            case .reference(let id): .reference(rename(id))
            case .negate(let e): .negate(e.renamingReferences(rename))
            case .binary(let op, let l, let r): .binary(op, l.renamingReferences(rename), r.renamingReferences(rename))
            case .call(let name, let args): .call(name, args.map { $0.renamingReferences(rename) })
            case .list(let items): .list(items.map { $0.renamingReferences(rename) })
            }
        }
    }

    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public let message: String
        /// 1-based character position in the expression.
        public let position: Int
        public var description: String { "\(message) at character \(position)" }
    }

    public static let functions: Set<String> = [
        "FILL", "RATE", "DIFF", "RUNNING_SUM", "SUM", "AVG", "MAX", "MIN", "ABS",
    ]

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
        guard parser.i == parser.chars.count else {
            throw SyntaxError(message: "unexpected '\(parser.chars[parser.i])'", position: parser.i + 1)
        }
        guard expression.height <= maxDepth else {
            throw SyntaxError(
                message: "the expression nests deeper than \(maxDepth) levels (operators and parentheses)", position: 1)
        }
        return expression
    }
}
