extension MetricMath {
    /// A recursive-descent parser: expression → term (+ -) → unary (* /) → primary; `depth` bounds the recursion.
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
                throw SyntaxError(
                    message: "the expression nests deeper than \(MetricMath.maxDepth) levels", position: i + 1)
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
                        throw SyntaxError(
                            message:
                                "unknown function \(word); functions: \(MetricMath.functions.sorted().joined(separator: ", "))",
                            position: start + 1)
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
                throw SyntaxError(
                    message: i < chars.count ? "expected '\(c)', found '\(chars[i])'" : "missing '\(c)'",
                    position: i + 1)
            }
            i += 1
        }
    }
}
