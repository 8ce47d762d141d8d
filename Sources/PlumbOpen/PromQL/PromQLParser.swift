import Foundation

/// A PromQL query that does not parse, with the byte offset Prometheus' own errors give ("1:5: parse error: …").
public struct PromQLParseError: Error, CustomStringConvertible, Equatable {
    public let position: Int
    public let message: String
    public var description: String { "1:\(position + 1): parse error: \(message)" }
}

/// PromQL's tokens.
enum PromQLToken: Equatable {
    case identifier(String)
    case number(Double)
    case duration(Int64)
    case string(String)
    case op(String)
    case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket, comma, colon, at
    case end
}

/// Splits a query into tokens; durations (`5m`, `1h30m`, `500ms`) are told from numbers by their unit.
struct PromQLLexer {
    let bytes: [UInt8]
    var i = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static let maxQueryBytes = 128 * 1_024

    mutating func tokens() throws(PromQLParseError) -> [(PromQLToken, Int)] {
        guard bytes.count <= Self.maxQueryBytes else {
            throw PromQLParseError(position: 0, message: "the query is longer than \(Self.maxQueryBytes) bytes")
        }
        var out: [(PromQLToken, Int)] = []
        while true {
            skipSpaceAndComments()
            let start = i
            guard i < bytes.count else {
                out.append((.end, i))
                return out
            }
            out.append((try next(), start))
        }
    }

    mutating func skipSpaceAndComments() {
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                i += 1
            } else if b == 0x23 {  // '#' comment to the end of the line
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else {
                return
            }
        }
    }

    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F || b == 0x3A
    }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    mutating func next() throws(PromQLParseError) -> PromQLToken {
        let b = bytes[i]
        let two = i + 1 < bytes.count ? String(decoding: bytes[i...(i + 1)], as: UTF8.self) : ""
        switch b {
        case 0x28:
            i += 1
            return .leftParen
        case 0x29:
            i += 1
            return .rightParen
        case 0x7B:
            i += 1
            return .leftBrace
        case 0x7D:
            i += 1
            return .rightBrace
        case 0x5B:
            i += 1
            return .leftBracket
        case 0x5D:
            i += 1
            return .rightBracket
        case 0x2C:
            i += 1
            return .comma
        case 0x3A where !(i + 1 < bytes.count && Self.isIdentifierStart(bytes[i + 1])):
            i += 1
            return .colon
        case 0x40:
            i += 1
            return .at
        case 0x22, 0x27, 0x60: return .string(try string())
        default: break
        }
        if ["==", "!=", ">=", "<=", "=~", "!~"].contains(two) {
            i += 2
            return .op(two)
        }
        if "+-*/%^<>=".utf8.contains(b) {
            i += 1
            return .op(String(UnicodeScalar(b)))
        }
        if Self.isDigit(b) || (b == 0x2E && i + 1 < bytes.count && Self.isDigit(bytes[i + 1])) {
            return try numberOrDuration()
        }
        if Self.isIdentifierStart(b) {
            let start = i
            while i < bytes.count, Self.isIdentifierStart(bytes[i]) || Self.isDigit(bytes[i]) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word.lowercased() {
            case "inf": return .number(.infinity)
            case "nan": return .number(.nan)
            default: return .identifier(word)
            }
        }
        throw PromQLParseError(position: i, message: "unexpected character '\(String(UnicodeScalar(b)))'")
    }

    mutating func numberOrDuration() throws(PromQLParseError) -> PromQLToken {
        let start = i
        // A duration: digits and units, repeated (`1h30m`).
        if let duration = durationAhead() { return .duration(duration) }
        i = start
        if i + 1 < bytes.count, bytes[i] == 0x30, bytes[i + 1] | 0x20 == 0x78 {  // 0x… hex
            i += 2
            while i < bytes.count, Self.isDigit(bytes[i]) || (bytes[i] | 0x20 >= 0x61 && bytes[i] | 0x20 <= 0x66) {
                i += 1
            }
            guard let value = UInt64(String(decoding: bytes[(start + 2)..<i], as: UTF8.self), radix: 16) else {
                throw PromQLParseError(position: start, message: "bad hexadecimal number")
            }
            return .number(Double(value))
        }
        while i < bytes.count, Self.isDigit(bytes[i]) || bytes[i] == 0x2E { i += 1 }
        if i < bytes.count, bytes[i] | 0x20 == 0x65 {  // exponent
            var j = i + 1
            if j < bytes.count, bytes[j] == 0x2B || bytes[j] == 0x2D { j += 1 }
            if j < bytes.count, Self.isDigit(bytes[j]) {
                i = j
                while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
            }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let value = Double(text) else { throw PromQLParseError(position: start, message: "bad number '\(text)'") }
        return .number(value)
    }

    /// Milliseconds of the duration starting here, or nil (the position is then undefined).
    mutating func durationAhead() -> Int64? {
        let units: [(String, Int64)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
            ("y", 31_536_000_000),
        ]
        var total: Int64 = 0
        var parts = 0
        while i < bytes.count, Self.isDigit(bytes[i]) {
            let start = i
            while i < bytes.count, Self.isDigit(bytes[i]) { i += 1 }
            guard let n = Int64(String(decoding: bytes[start..<i], as: UTF8.self)) else { return nil }
            guard
                let (unit, scale) = units.first(where: { unit in
                    let u = Array(unit.0.utf8)
                    guard i + u.count <= bytes.count, Array(bytes[i..<(i + u.count)]) == u else { return false }
                    // `m` must not be the start of `ms`.
                    return !(unit.0 == "m" && i + 1 < bytes.count && bytes[i + 1] == 0x73)
                })
            else { return nil }
            i += unit.utf8.count
            let (product, overflow) = n.multipliedReportingOverflow(by: scale)
            guard !overflow, case let (sum, o) = total.addingReportingOverflow(product), !o else { return nil }
            total = sum
            parts += 1
        }
        guard parts > 0,
            i >= bytes.count || bytes[i] == 0x3A || !(Self.isIdentifierStart(bytes[i]) || Self.isDigit(bytes[i]))
        else {
            return nil
        }
        return total
    }

    mutating func string() throws(PromQLParseError) -> String {
        let quote = bytes[i]
        let start = i
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else {
                throw PromQLParseError(position: start, message: "unterminated quoted string")
            }
            let b = bytes[i]
            i += 1
            if b == quote { break }
            if b == 0x5C, quote != 0x60 {
                guard i < bytes.count else {
                    throw PromQLParseError(position: start, message: "unterminated quoted string")
                }
                let e = bytes[i]
                i += 1
                switch e {
                case 0x6E: out.append(0x0A)
                case 0x74: out.append(0x09)
                case 0x72: out.append(0x0D)
                case 0x5C, 0x22, 0x27: out.append(e)
                case 0x61: out.append(0x07)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x76: out.append(0x0B)
                case 0x75, 0x55, 0x78:
                    let width = e == 0x75 ? 4 : e == 0x55 ? 8 : 2
                    guard i + width <= bytes.count,
                        let code = UInt32(String(decoding: bytes[i..<(i + width)], as: UTF8.self), radix: 16),
                        let scalar = UnicodeScalar(code)
                    else { throw PromQLParseError(position: i, message: "bad escape in a string") }
                    i += width
                    if e == 0x78 { out.append(UInt8(code)) } else { out += Array(String(Character(scalar)).utf8) }
                default:
                    throw PromQLParseError(
                        position: i - 1, message: "unknown escape sequence '\\\(String(UnicodeScalar(e)))'")
                }
            } else {
                out.append(b)
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw PromQLParseError(position: start, message: "a string is not UTF-8")
        }
        return text
    }
}

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
