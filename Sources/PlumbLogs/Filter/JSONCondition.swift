import PlumbAPI

/// The condition inside a JSON filter pattern's braces.
indirect enum JSONCondition: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    enum Operator: String, Sendable, Equatable {
        case equal = "="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    enum Literal: Sendable, Equatable {
        /// A string, with `*` as wildcard.
        case string(String)
        case number(Double)
    }

    case compare([Step], Operator, Literal)
    case isNull([Step])
    case isTrue([Step])
    case isFalse([Step])
    case notExists([Step])
    case and(JSONCondition, JSONCondition)
    case or(JSONCondition, JSONCondition)

    /// Strings compare as themselves, numbers and booleans as their JSON text.
    static func text(of value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}

/// Recursive descent over the text between a JSON pattern's braces.
struct JSONPatternParser {
    let chars: [Character]
    var index = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parse() throws(FilterPatternError) -> JSONCondition {
        let condition = try parseOr()
        skipSpace()
        guard index == chars.count else { throw error("unexpected '\(chars[index])'") }
        return condition
    }

    private mutating func parseOr() throws(FilterPatternError) -> JSONCondition {
        var left = try parseAnd()
        while consume("||") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(FilterPatternError) -> JSONCondition {
        var left = try parsePrimary()
        while consume("&&") { left = .and(left, try parsePrimary()) }
        return left
    }

    private mutating func parsePrimary() throws(FilterPatternError) -> JSONCondition {
        skipSpace()
        if consume("(") {
            let inner = try parseOr()
            guard consume(")") else { throw error("expected ')'") }
            return inner
        }
        let path = try parseSelector()
        skipSpace()
        if consumeWord("IS") {
            if consumeWord("NULL") { return .isNull(path) }
            if consumeWord("TRUE") { return .isTrue(path) }
            if consumeWord("FALSE") { return .isFalse(path) }
            throw error("IS must be followed by NULL, TRUE or FALSE")
        }
        if consumeWord("NOT") {
            guard consumeWord("EXISTS") else { throw error("NOT must be followed by EXISTS") }
            return .notExists(path)
        }
        let op: JSONCondition.Operator
        if consume("!=") {
            op = .notEqual
        } else if consume("<=") {
            op = .lessOrEqual
        } else if consume(">=") {
            op = .greaterOrEqual
        } else if consume("=") {
            op = .equal
        } else if consume("<") {
            op = .less
        } else if consume(">") {
            op = .greater
        } else {
            throw error("expected =, !=, <, <=, >, >=, IS or NOT EXISTS after the selector")
        }
        let literal = try parseLiteral()
        if case .string = literal, op != .equal, op != .notEqual {
            throw error("\(op.rawValue) compares numbers")
        }
        return .compare(path, op, literal)
    }

    private mutating func parseSelector() throws(FilterPatternError) -> [JSONCondition.Step] {
        skipSpace()
        guard consume("$") else { throw error("expected a selector starting with $") }
        var steps: [JSONCondition.Step] = []
        while index < chars.count {
            if chars[index] == "." {
                index += 1
                var name = ""
                while index < chars.count,
                    chars[index].isLetter || chars[index].isNumber || chars[index] == "_" || chars[index] == "-"
                        || chars[index] == "@" || chars[index] == ":"
                {
                    name.append(chars[index])
                    index += 1
                }
                guard !name.isEmpty else { throw error("expected a key after '.'") }
                steps.append(.key(name))
            } else if chars[index] == "[" {
                index += 1
                var digits = ""
                while index < chars.count, chars[index].isNumber {
                    digits.append(chars[index])
                    index += 1
                }
                guard let i = Int(digits), consume("]") else { throw error("expected an array index like [0]") }
                steps.append(.index(i))
            } else {
                break
            }
        }
        guard !steps.isEmpty else { throw error("a selector needs at least one key, like $.field") }
        return steps
    }

    private mutating func parseLiteral() throws(FilterPatternError) -> JSONCondition.Literal {
        skipSpace()
        guard index < chars.count else { throw error("expected a value") }
        if chars[index] == "\"" {
            index += 1
            var text = ""
            while index < chars.count, chars[index] != "\"" {
                if chars[index] == "\\", index + 1 < chars.count { index += 1 }
                text.append(chars[index])
                index += 1
            }
            guard index < chars.count else { throw error("unterminated string") }
            index += 1
            return .string(text)
        }
        var text = ""
        while index < chars.count, !chars[index].isWhitespace, chars[index] != ")", chars[index] != "&",
            chars[index] != "|"
        {
            text.append(chars[index])
            index += 1
        }
        guard !text.isEmpty else { throw error("expected a value") }
        if let n = Double(text), n.isFinite { return .number(n) }
        return .string(text)
    }

    private mutating func skipSpace() {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpace()
        let t = Array(token)
        guard index + t.count <= chars.count, Array(chars[index..<index + t.count]) == t else { return false }
        index += t.count
        return true
    }

    private mutating func consumeWord(_ word: String) -> Bool {
        skipSpace()
        let w = Array(word)
        guard index + w.count <= chars.count, Array(chars[index..<index + w.count]) == w else { return false }
        if index + w.count < chars.count, chars[index + w.count].isLetter { return false }
        index += w.count
        return true
    }

    private func error(_ message: String) -> FilterPatternError {
        FilterPatternError("\(message) at character \(index + 2) of the JSON pattern")
    }
}
