import Foundation

/// Parses PromQL by precedence climbing over `PromQLLexer`'s tokens; nesting is bounded (`maxDepth`), so a hostile
/// query cannot exhaust the stack.
public struct PromQLParser {
    var tokens: [(PromQLToken, Int)] = []
    var k = 0
    var depth = 0
    static let maxDepth = 200

    public static func parse(_ query: String) throws(PromQLParseError) -> PromQLExpr {
        var lexer = PromQLLexer(query)
        var parser = PromQLParser()
        parser.tokens = try lexer.tokens()
        let expr = try parser.expression(minimum: 1)
        guard parser.peek == .end else { throw parser.error("unexpected \(parser.describe(parser.peek))") }
        return expr
    }

    var peek: PromQLToken { tokens[k].0 }
    var position: Int { tokens[k].1 }

    func error(_ message: String) -> PromQLParseError { PromQLParseError(position: position, message: message) }

    func describe(_ token: PromQLToken) -> String {
        switch token {
        case .identifier(let s): "identifier \"\(s)\""
        case .number(let n): "number \"\(n)\""
        case .duration: "duration"
        case .string: "string"
        case .op(let o): "\"\(o)\""
        case .leftParen: "\"(\""
        case .rightParen: "\")\""
        case .leftBrace: "\"{\""
        case .rightBrace: "\"}\""
        case .leftBracket: "\"[\""
        case .rightBracket: "\"]\""
        case .comma: "\",\""
        case .colon: "\":\""
        case .at: "\"@\""
        case .end: "end of input"
        }
    }

    mutating func advance() -> PromQLToken {
        let token = tokens[k].0
        if k < tokens.count - 1 { k += 1 }
        return token
    }

    mutating func expect(_ token: PromQLToken, _ what: String) throws(PromQLParseError) {
        guard peek == token else { throw error("expected \(what), got \(describe(peek))") }
        _ = advance()
    }

    /// The binary operator at the cursor, if any.
    var binaryOperator: BinaryOp? {
        switch peek {
        case .op(let o): BinaryOp(rawValue: o)
        case .identifier(let w):
            ["and", "or", "unless", "atan2"].contains(w.lowercased()) ? BinaryOp(rawValue: w.lowercased()) : nil
        default: nil
        }
    }

    mutating func expression(minimum: Int) throws(PromQLParseError) -> PromQLExpr {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("the query nests deeper than \(Self.maxDepth)") }
        var lhs = try unary()
        while let op = binaryOperator, op.precedence >= minimum {
            _ = advance()
            var returnBool = false
            if case .identifier(let w) = peek, w.lowercased() == "bool" {
                guard op.isComparison else { throw error("bool modifier can only be used on comparison operators") }
                _ = advance()
                returnBool = true
            }
            let matching = try vectorMatching(op)
            // `^` is right-associative; the others bind left.
            let rhs = try expression(minimum: op == .pow ? op.precedence : op.precedence + 1)
            try check(op, lhs, rhs, returnBool: returnBool, matching: matching)
            lhs = .binary(op, lhs, rhs, returnBool: returnBool, matching: matching)
        }
        return lhs
    }

    func check(
        _ op: BinaryOp, _ lhs: PromQLExpr, _ rhs: PromQLExpr, returnBool: Bool, matching: VectorMatching?
    ) throws(PromQLParseError) {
        for side in [lhs, rhs] where side.type == .string || side.type == .matrix {
            throw error("binary expression must contain only scalar and instant vector types")
        }
        if op.isComparison, lhs.type == .scalar, rhs.type == .scalar, !returnBool {
            throw error("comparisons between scalars must use BOOL modifier")
        }
        if op.isSetOperator, lhs.type == .scalar || rhs.type == .scalar {
            throw error("set operator \"\(op.rawValue)\" not allowed in binary scalar expression")
        }
        if matching != nil, lhs.type == .scalar || rhs.type == .scalar {
            throw error("vector matching only allowed between instant vectors")
        }
        if op.isSetOperator, let matching, matching.cardinality != .oneToOne {
            throw error("no grouping allowed for \"\(op.rawValue)\" operation")
        }
    }

    mutating func vectorMatching(_ op: BinaryOp) throws(PromQLParseError) -> VectorMatching? {
        guard case .identifier(let w) = peek, ["on", "ignoring"].contains(w.lowercased()) else { return nil }
        _ = advance()
        var matching = VectorMatching()
        matching.on = w.lowercased() == "on"
        matching.labels = try labelList()
        if case .identifier(let g) = peek, ["group_left", "group_right"].contains(g.lowercased()) {
            _ = advance()
            matching.cardinality = g.lowercased() == "group_left" ? .manyToOne : .oneToMany
            if peek == .leftParen { matching.include = try labelList() }
        }
        return matching
    }

    mutating func labelList() throws(PromQLParseError) -> [String] {
        try expect(.leftParen, "\"(\"")
        var labels: [String] = []
        while peek != .rightParen {
            guard case .identifier(let name) = advance(), !name.contains(":") else {
                throw error("expected a label name in a grouping")
            }
            labels.append(name)
            if peek == .comma { _ = advance() } else { break }
        }
        try expect(.rightParen, "\")\" to close the label list")
        return labels
    }

    mutating func unary() throws(PromQLParseError) -> PromQLExpr {
        if case .op(let o) = peek, o == "-" || o == "+" {
            _ = advance()
            // Unary minus binds looser than `^`: -2^2 is -(2^2).
            let operand = try expression(minimum: BinaryOp.pow.precedence)
            guard operand.type == .scalar || operand.type == .vector else {
                throw error("unary expression only allowed on expressions of type scalar or instant vector")
            }
            if case .number(let n) = operand { return .number(o == "-" ? -n : n) }
            return o == "-" ? .negate(operand) : operand
        }
        return try postfix(try primary())
    }

    /// `[range]`, `[range:step]`, `offset`, `@` after an expression.
    mutating func postfix(_ base: PromQLExpr) throws(PromQLParseError) -> PromQLExpr {
        var expr = base
        while true {
            switch peek {
            case .leftBracket:
                _ = advance()
                guard case .duration(let range) = advance(), range > 0 else {
                    throw error("expected a positive duration for the range")
                }
                if peek == .colon {
                    _ = advance()
                    var step: Int64?
                    if case .duration(let s) = peek {
                        _ = advance()
                        guard s > 0 else { throw error("zero or negative step duration in subquery") }
                        step = s
                    }
                    try expect(.rightBracket, "\"]\"")
                    guard expr.type == .vector else {
                        throw error("subquery is only allowed on instant vector, got \(expr.type.shown)")
                    }
                    expr = .subquery(expr, range: range, step: step, modifiers: Modifiers())
                } else {
                    try expect(.rightBracket, "\"]\"")
                    guard case .vector(let selector) = expr, selector.modifiers == Modifiers() else {
                        throw error("ranges only allowed for vector selectors")
                    }
                    expr = .matrix(selector, range: range)
                }
            case .identifier(let w) where w.lowercased() == "offset":
                _ = advance()
                var sign: Int64 = 1
                if case .op("-") = peek {
                    _ = advance()
                    sign = -1
                }
                guard case .duration(let d) = advance() else { throw error("expected a duration after offset") }
                try modify(&expr) { m throws(PromQLParseError) in
                    guard m.offset == 0 else { throw error("offset may not be set multiple times") }
                    m.offset = sign * d
                }
            case .at:
                _ = advance()
                let at: Modifiers.At
                switch advance() {
                case .number(let n):
                    guard n.isFinite, abs(n) < 1e13 else { throw error("timestamp out of bounds for @ modifier") }
                    at = .time(Int64((n * 1_000).rounded()))
                case .op("-"):
                    guard case .number(let n) = advance(), n.isFinite, abs(n) < 1e13 else {
                        throw error("expected a timestamp after @")
                    }
                    at = .time(-Int64((n * 1_000).rounded()))
                case .identifier(let w) where ["start", "end"].contains(w):
                    try expect(.leftParen, "\"(\"")
                    try expect(.rightParen, "\")\"")
                    at = w == "start" ? .start : .end
                default:
                    throw error("expected a timestamp, start() or end() after @")
                }
                try modify(&expr) { m throws(PromQLParseError) in
                    guard m.at == nil else { throw error("@ <timestamp> may not be set multiple times") }
                    m.at = at
                }
            default:
                return expr
            }
        }
    }

    func modify(
        _ expr: inout PromQLExpr, _ change: (inout Modifiers) throws(PromQLParseError) -> Void
    ) throws(PromQLParseError) {
        switch expr {
        case .vector(var s):
            try change(&s.modifiers)
            expr = .vector(s)
        case .matrix(var s, let range):
            try change(&s.modifiers)
            expr = .matrix(s, range: range)
        case .subquery(let e, let range, let step, var m):
            try change(&m)
            expr = .subquery(e, range: range, step: step, modifiers: m)
        default:
            throw error("offset and @ modifiers must follow a selector or a subquery")
        }
    }

    mutating func primary() throws(PromQLParseError) -> PromQLExpr {
        switch peek {
        case .number(let n):
            _ = advance()
            return .number(n)
        case .duration(let d):
            // A bare duration is a number of seconds in newer Prometheus; here it is refused as 2.x does.
            _ = d
            throw error("unexpected duration")
        case .string(let s):
            _ = advance()
            return .string(s)
        case .leftParen:
            _ = advance()
            let inner = try expression(minimum: 1)
            try expect(.rightParen, "\")\"")
            return .paren(inner)
        case .leftBrace:
            return .vector(try selector(name: nil))
        case .identifier(let name):
            _ = advance()
            if let op = AggregateOp(rawValue: name.lowercased()), peek == .leftParen || isGroupingKeyword {
                return try aggregation(op)
            }
            if peek == .leftParen {
                return try call(name)
            }
            if ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"].contains(
                name.lowercased())
            {
                throw error("unexpected keyword \"\(name)\"")
            }
            return .vector(try selector(name: name))
        default:
            throw error("unexpected \(describe(peek))")
        }
    }

    var isGroupingKeyword: Bool {
        if case .identifier(let w) = peek { return ["by", "without"].contains(w.lowercased()) }
        return false
    }

    mutating func selector(name: String?) throws(PromQLParseError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if peek == .leftBrace {
            _ = advance()
            while peek != .rightBrace {
                guard case .identifier(let label) = advance() else { throw error("expected a label name") }
                guard case .op(let o) = advance(), let kind = LabelMatcher.Kind(rawValue: o) else {
                    throw error("expected a label matching operator (= != =~ !~)")
                }
                guard case .string(let value) = advance() else { throw error("expected a quoted label value") }
                if kind == .regex || kind == .notRegex {
                    guard (try? NSRegularExpression(pattern: value)) != nil else {
                        throw error("invalid regular expression in matcher: \(value)")
                    }
                }
                matchers.append(LabelMatcher(label, kind, value))
                if peek == .comma { _ = advance() } else { break }
            }
            try expect(.rightBrace, "\"}\"")
        }
        if let name, matchers.contains(where: { $0.name == "__name__" }) {
            throw error("metric name must not be set twice: \"\(name)\"")
        }
        // Prometheus refuses a selector that could match every series.
        let named = name != nil || matchers.contains { $0.name == "__name__" }
        let selective = matchers.contains { m in
            switch m.kind {
            case .equal, .regex:
                return (try? NSRegularExpression(pattern: "\\A(?:" + m.value + ")\\z"))?
                    .firstMatch(in: "", range: NSRange(location: 0, length: 0)) == nil
            case .notEqual, .notRegex: return false
            }
        }
        guard named || selective else {
            throw error("vector selector must contain at least one non-empty matcher")
        }
        return VectorSelector(name: name, matchers: matchers)
    }

    mutating func aggregation(_ op: AggregateOp) throws(PromQLParseError) -> PromQLExpr {
        var grouping: Grouping?
        if case .identifier(let w) = peek, ["by", "without"].contains(w.lowercased()) {
            _ = advance()
            grouping = Grouping(without: w.lowercased() == "without", labels: try labelList())
        }
        try expect(.leftParen, "\"(\"")
        var parameter: PromQLExpr?
        if op.takesParameter {
            parameter = try expression(minimum: 1)
            try expect(.comma, "\",\" after the parameter of \(op.rawValue)")
        }
        let inner = try expression(minimum: 1)
        try expect(.rightParen, "\")\"")
        if grouping == nil, case .identifier(let w) = peek, ["by", "without"].contains(w.lowercased()) {
            _ = advance()
            grouping = Grouping(without: w.lowercased() == "without", labels: try labelList())
        }
        guard inner.type == .vector else {
            throw error("expected type instant vector in aggregation expression, got \(inner.type.shown)")
        }
        if let parameter {
            let wanted: ValueType = op == .countValues ? .string : .scalar
            guard parameter.type == wanted else {
                throw error("expected type \(wanted.shown) in aggregation parameter, got \(parameter.type.shown)")
            }
        }
        return .aggregate(op, inner, parameter: parameter, grouping: grouping)
    }

    mutating func call(_ name: String) throws(PromQLParseError) -> PromQLExpr {
        guard let signature = PromQLFunctions.signatures[name] else {
            throw error("unknown function with name \"\(name)\"")
        }
        try expect(.leftParen, "\"(\"")
        var args: [PromQLExpr] = []
        while peek != .rightParen {
            args.append(try expression(minimum: 1))
            if peek == .comma { _ = advance() } else { break }
        }
        try expect(.rightParen, "\")\"")
        // variadic 1: the last argument may be left out; -1: it may also repeat (label_join's source labels).
        let fixed = signature.args.count
        let required = signature.variadic != 0 ? fixed - 1 : fixed
        let allowed = signature.variadic < 0 ? Int.max : fixed
        guard args.count >= required, args.count <= allowed else {
            throw error("expected \(fixed) argument(s) in call to \"\(name)\", got \(args.count)")
        }
        for (i, arg) in args.enumerated() {
            let wanted = i < fixed ? signature.args[i] : signature.args.last ?? .string
            guard arg.type == wanted else {
                throw error(
                    "expected type \(wanted.shown) in call to function \"\(name)\", got \(arg.type.shown)")
            }
        }
        return .call(name, args)
    }
}
