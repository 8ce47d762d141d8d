import Foundation

/// One element of a space-delimited pattern: a named field (with optional conditions) or `...`.
struct DelimitedField: Sendable, Equatable {
    indirect enum Condition: Sendable, Equatable {
        case compare(String, JSONCondition.Operator, JSONCondition.Literal)
        case and(Condition, Condition)
        case or(Condition, Condition)
    }

    /// nil for `...`.
    var name: String?
    var condition: Condition?

    static func parseList(_ text: String) throws(FilterPatternError) -> [DelimitedField] {
        var elements: [String] = []
        var current = ""
        var quoted = false
        for c in text {
            if c == "\"" { quoted.toggle() }
            if c == ",", !quoted {
                elements.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        elements.append(current)
        var fields: [DelimitedField] = []
        var names: Set<String> = []
        for raw in elements {
            let element = raw.trimmingCharacters(in: .whitespaces)
            guard !element.isEmpty else { throw FilterPatternError("empty field in a space-delimited pattern") }
            if element == "..." {
                fields.append(DelimitedField(name: nil, condition: nil))
                continue
            }
            var parser = ConditionParser(element)
            let name = try parser.name()
            guard names.insert(name).inserted else { throw FilterPatternError("field '\(name)' appears twice") }
            let condition = try parser.rest(firstField: name)
            fields.append(DelimitedField(name: name, condition: condition))
        }
        return fields
    }
}

/// `name`, then optionally `= value`, `!= value`, `>= 400 && status < 500`, `= 4* || status = 5*`.
struct ConditionParser {
    let chars: [Character]
    var index = 0

    init(_ text: String) { chars = Array(text) }

    mutating func name() throws(FilterPatternError) -> String {
        skipSpace()
        var name = ""
        while index < chars.count,
            chars[index].isLetter || chars[index].isNumber || chars[index] == "_" || chars[index] == "$"
        {
            name.append(chars[index])
            index += 1
        }
        if name.hasPrefix("$") { name.removeFirst() }
        guard !name.isEmpty else { throw FilterPatternError("expected a field name in '\(String(chars))'") }
        return name
    }

    mutating func rest(firstField: String) throws(FilterPatternError) -> DelimitedField.Condition? {
        skipSpace()
        guard index < chars.count else { return nil }
        var condition = try comparison(field: firstField)
        while true {
            skipSpace()
            if consume("&&") {
                condition = .and(condition, try comparison(field: try nameOrSame(firstField)))
            } else if consume("||") {
                condition = .or(condition, try comparison(field: try nameOrSame(firstField)))
            } else {
                break
            }
        }
        skipSpace()
        guard index == chars.count else { throw FilterPatternError("unexpected text in '\(String(chars))'") }
        return condition
    }

    private mutating func nameOrSame(_ fallback: String) throws(FilterPatternError) -> String {
        skipSpace()
        if index < chars.count, chars[index].isLetter || chars[index] == "$" || chars[index] == "_" {
            return try name()
        }
        return fallback
    }

    private mutating func comparison(field: String) throws(FilterPatternError) -> DelimitedField.Condition {
        skipSpace()
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
            throw FilterPatternError("expected a comparison after '\(field)'")
        }
        skipSpace()
        var text = ""
        if index < chars.count, chars[index] == "\"" {
            index += 1
            while index < chars.count, chars[index] != "\"" {
                text.append(chars[index])
                index += 1
            }
            guard index < chars.count else { throw FilterPatternError("unterminated string in '\(String(chars))'") }
            index += 1
            return .compare(field, op, .string(text))
        }
        while index < chars.count, !chars[index].isWhitespace, chars[index] != "&", chars[index] != "|" {
            text.append(chars[index])
            index += 1
        }
        guard !text.isEmpty else { throw FilterPatternError("expected a value after '\(field) \(op.rawValue)'") }
        if let n = Double(text), n.isFinite { return .compare(field, op, .number(n)) }
        guard op == .equal || op == .notEqual else {
            throw FilterPatternError("\(op.rawValue) compares numbers, not '\(text)'")
        }
        return .compare(field, op, .string(text))
    }

    private mutating func skipSpace() {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        let t = Array(token)
        guard index + t.count <= chars.count, Array(chars[index..<index + t.count]) == t else { return false }
        index += t.count
        return true
    }
}
