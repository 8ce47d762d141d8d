/// A composite alarm's rule: `ALARM("a") AND NOT (OK("b") OR TRUE)`.
///
/// Keywords are upper case as in CloudWatch. `NOT` binds tighter than `AND`, which binds tighter than `OR`.
/// Alarm names are double-quoted (`\"` and `\\` escape) or written bare up to the closing parenthesis.
public indirect enum AlarmRule: Sendable, Equatable, CustomStringConvertible {
    case state(AlarmState, String)
    case constant(Bool)
    case not(AlarmRule)
    case and(AlarmRule, AlarmRule)
    case or(AlarmRule, AlarmRule)

    /// CloudWatch's limits: a rule of up to 10,240 characters naming up to 100 alarms.
    public static let maxLength = 10_240
    public static let maxReferences = 100

    public static func parse(_ text: String) throws(AlarmRuleError) -> AlarmRule {
        guard text.utf8.count <= maxLength else {
            throw AlarmRuleError("the rule is longer than \(maxLength) characters")
        }
        var parser = AlarmRuleParser(text)
        let rule = try parser.parseRule()
        guard rule.references.count <= maxReferences else {
            throw AlarmRuleError("the rule names \(rule.references.count) alarms; at most \(maxReferences) are allowed")
        }
        return rule
    }

    /// Whether the rule holds given each named alarm's state (an unknown alarm matches no state).
    public func evaluate(_ state: (String) -> AlarmState?) -> Bool {
        switch self {
        case .state(let wanted, let name): state(name) == wanted
        case .constant(let value): value
        case .not(let inner): !inner.evaluate(state)
        case .and(let a, let b): a.evaluate(state) && b.evaluate(state)
        case .or(let a, let b): a.evaluate(state) || b.evaluate(state)
        }
    }

    /// The distinct alarm names the rule refers to, in order of first appearance.
    public var references: [String] {
        var seen: Set<String> = []
        var out: [String] = []
        func walk(_ rule: AlarmRule) {
            switch rule {
            case .state(_, let name): if seen.insert(name).inserted { out.append(name) }
            case .constant: break
            case .not(let inner): walk(inner)
            case .and(let a, let b), .or(let a, let b):
                walk(a)
                walk(b)
            }
        }
        walk(self)
        return out
    }

    public var description: String {
        switch self {
        case .state(let s, let name): "\(s.rawValue)(\"\(name)\")"
        case .constant(let v): v ? "TRUE" : "FALSE"
        case .not(let inner): "NOT \(inner.parenthesised)"
        case .and(let a, let b): "\(a.parenthesised) AND \(b.parenthesised)"
        case .or(let a, let b): "\(a.parenthesised) OR \(b.parenthesised)"
        }
    }

    private var parenthesised: String {
        switch self {
        case .and, .or: "(\(description))"
        default: description
        }
    }
}

/// A rule that does not parse; `offset` is the character position where parsing stopped.
public struct AlarmRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Recursive descent over the rule's characters.
struct AlarmRuleParser {
    let chars: [Character]
    var index = 0

    init(_ text: String) { chars = Array(text) }

    mutating func parseRule() throws(AlarmRuleError) -> AlarmRule {
        skipSpace()
        guard index < chars.count else { throw AlarmRuleError("the rule is empty") }
        let rule = try parseOr()
        skipSpace()
        guard index == chars.count else { throw error("unexpected '\(String(chars[index]))'") }
        return rule
    }

    private mutating func parseOr() throws(AlarmRuleError) -> AlarmRule {
        var left = try parseAnd()
        while consumeKeyword("OR") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(AlarmRuleError) -> AlarmRule {
        var left = try parseUnary()
        while consumeKeyword("AND") { left = .and(left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws(AlarmRuleError) -> AlarmRule {
        skipSpace()
        if consumeKeyword("NOT") { return .not(try parseUnary()) }
        if peek("(") {
            index += 1
            let inner = try parseOr()
            skipSpace()
            guard peek(")") else { throw error("expected ')'") }
            index += 1
            return inner
        }
        if consumeKeyword("TRUE") { return .constant(true) }
        if consumeKeyword("FALSE") { return .constant(false) }
        for state in [AlarmState.alarm, .ok, .insufficientData] where consumeKeyword(state.rawValue) {
            skipSpace()
            guard peek("(") else { throw error("expected '(' after \(state.rawValue)") }
            index += 1
            skipSpace()
            let name = try parseName()
            skipSpace()
            guard peek(")") else { throw error("expected ')' after the alarm name") }
            index += 1
            return .state(state, name)
        }
        guard index < chars.count else { throw error("the rule ends where a term was expected") }
        throw error("expected ALARM(…), OK(…), INSUFFICIENT_DATA(…), TRUE, FALSE, NOT or '('")
    }

    private mutating func parseName() throws(AlarmRuleError) -> String {
        var name = ""
        if peek("\"") {
            index += 1
            while index < chars.count, chars[index] != "\"" {
                if chars[index] == "\\", index + 1 < chars.count { index += 1 }
                name.append(chars[index])
                index += 1
            }
            guard index < chars.count else { throw error("unterminated alarm name") }
            index += 1
        } else {
            while index < chars.count, chars[index] != ")", !chars[index].isWhitespace {
                name.append(chars[index])
                index += 1
            }
        }
        guard !name.isEmpty else { throw error("empty alarm name") }
        return name
    }

    private func peek(_ c: Character) -> Bool { index < chars.count && chars[index] == c }

    private mutating func skipSpace() {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
    }

    /// Consumes `word` when it stands at the cursor as a whole word.
    private mutating func consumeKeyword(_ word: String) -> Bool {
        skipSpace()
        let w = Array(word)
        guard index + w.count <= chars.count, Array(chars[index..<index + w.count]) == w else { return false }
        let after = index + w.count
        if after < chars.count, chars[after].isLetter || chars[after] == "_" { return false }
        index = after
        return true
    }

    private func error(_ message: String) -> AlarmRuleError {
        AlarmRuleError("\(message) at character \(index + 1)")
    }
}
