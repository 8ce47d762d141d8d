/// SQL pre-filters for the patterns matched in memory: a condition every matching message satisfies (literal text
/// the message must contain), so a search reads only rows that may match and the matcher decides on those.
///
/// Each literal comes with an escape hatch, so the condition never drops a row the matcher would keep:
/// - JSON: the message holds `{`, and each key the condition needs appears as `"key"` unless the message holds a
///   backslash (a key written with escapes); `true`, `false` and `null` tested by `IS TRUE`/`IS FALSE`/`IS NULL`
///   cannot be escaped. Values compared as strings or numbers are not used (`5e2` is 500).
/// - Space-delimited: the longest wildcard-free part of each `field = "text"` condition appears in the message
///   unless the message holds a `"` (a quoted field's text joined to what follows its closing quote).
/// Conditions joined by `||` contribute nothing (either side may hold). Only ASCII literals are used, and none with
/// `K`, `;` or `` ` ``: Swift compares strings by canonical equivalence (`é` precomposed or not; the Kelvin sign,
/// the Greek question mark and varia are `K`, `;` and `` ` ``), SQLite's `instr` by bytes.
extension FilterPattern {
    public var sqlPrefilter: (sql: String, arguments: [String])? {
        var parts: [String] = []
        var arguments: [String] = []
        switch kind {
        case .json(let condition):
            parts.append("instr(message, '{') > 0")
            for key in Set(condition.requiredKeys) where Self.bytewise(key) {
                parts.append("(instr(message, ?) > 0 OR instr(message, '\\') > 0)")
                arguments.append("\"" + key + "\"")
            }
            for word in Set(condition.requiredWords) {
                parts.append("instr(message, ?) > 0")
                arguments.append(word)
            }
        case .delimited(let fields):
            for literal in Set(fields.compactMap(\.condition).flatMap(\.requiredText))
            where Self.bytewise(literal) {
                parts.append("(instr(message, ?) > 0 OR instr(message, '\"') > 0)")
                arguments.append(literal)
            }
        case .all, .terms:
            return nil
        }
        return parts.isEmpty ? nil : (parts.joined(separator: " AND "), arguments)
    }

    /// Whether `instr` finds exactly the texts Swift finds equal to `literal`: ASCII, and none of the three
    /// characters another code point is canonically equivalent to.
    static func bytewise(_ literal: String) -> Bool {
        literal.utf8.allSatisfy {
            $0 < 0x80 && $0 != UInt8(ascii: "K") && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: "`")
        }
    }
}

extension JSONCondition {
    /// Keys every message matching the condition names.
    var requiredKeys: [String] {
        switch self {
        case .compare(let path, _, _), .isNull(let path), .isTrue(let path), .isFalse(let path):
            return path.compactMap { step in if case .key(let k) = step { k } else { nil } }
        case .notExists, .or: return []
        case .and(let a, let b): return a.requiredKeys + b.requiredKeys
        }
    }

    /// Bare JSON words every matching message contains.
    var requiredWords: [String] {
        switch self {
        case .isNull: return ["null"]
        case .isTrue: return ["true"]
        case .isFalse: return ["false"]
        case .compare, .notExists, .or: return []
        case .and(let a, let b): return a.requiredWords + b.requiredWords
        }
    }
}

extension DelimitedField.Condition {
    /// Text every matching message contains: the longest part without `*` of each string equality.
    var requiredText: [String] {
        switch self {
        case .compare(_, .equal, .string(let s)):
            let parts = s.split(separator: "*" as Character).map(String.init)
            let longest = parts.max { $0.utf8.count < $1.utf8.count } ?? ""
            return longest.isEmpty ? [] : [longest]
        case .compare, .or: return []
        case .and(let a, let b): return a.requiredText + b.requiredText
        }
    }
}
