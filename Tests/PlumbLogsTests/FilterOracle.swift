import PlumbAPI

@testable import PlumbLogs

/// The filter patterns' definition written the plain way — parse the whole event into a tree or into `String`
/// fields, then evaluate — kept as the independent answer the byte-level programs are checked against.
enum FilterOracle {
    static func match(_ pattern: FilterPattern, _ message: String) -> [String: String]? {
        switch pattern.kind {
        case .all:
            return [:]
        case .terms(let required, let optional, let excluded):
            for term in required where !contains(message, term) { return nil }
            for term in excluded where contains(message, term) { return nil }
            if !optional.isEmpty, !optional.contains(where: { contains(message, $0) }) { return nil }
            return [:]
        case .json(let condition):
            guard message.utf8.first(where: { $0 != 32 && $0 != 9 }) == UInt8(ascii: "{"),
                let json = JSONValue.parseStrict(message.utf8), case .object = json
            else { return nil }
            return holds(condition, in: json) ? [:] : nil
        case .delimited(let fields):
            return match(fields, against: splitFields(message))
        }
    }

    /// Substring of UTF-8 bytes, the naive way.
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = Array(haystack.utf8)
        let n = Array(needle.utf8)
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        return (0...(h.count - n.count)).contains { Array(h[$0..<($0 + n.count)]) == n }
    }

    static func holds(_ condition: JSONCondition, in root: JSONValue) -> Bool {
        switch condition {
        case .and(let a, let b): return holds(a, in: root) && holds(b, in: root)
        case .or(let a, let b): return holds(a, in: root) || holds(b, in: root)
        case .notExists(let path): return resolve(path, in: root) == nil
        case .isNull(let path): return resolve(path, in: root) == .null
        case .isTrue(let path): return resolve(path, in: root) == .bool(true)
        case .isFalse(let path): return resolve(path, in: root) == .bool(false)
        case .compare(let path, let op, let literal):
            guard let value = resolve(path, in: root) else { return false }
            switch (op, literal) {
            case (_, .number(let n)):
                guard case .number(let v) = value else { return false }
                switch op {
                case .equal: return v == n
                case .notEqual: return v != n
                case .less: return v < n
                case .lessOrEqual: return v <= n
                case .greater: return v > n
                case .greaterOrEqual: return v >= n
                }
            case (.equal, .string(let s)):
                return JSONCondition.text(of: value).map { wildcardMatch($0, s) } ?? false
            case (.notEqual, .string(let s)):
                return JSONCondition.text(of: value).map { !wildcardMatch($0, s) } ?? false
            case (_, .string):
                return false
            }
        }
    }

    static func resolve(_ path: [JSONCondition.Step], in root: JSONValue) -> JSONValue? {
        var current = root
        for step in path {
            switch (step, current) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                current = next
            case (.index(let i), .array(let a)):
                guard a.indices.contains(i) else { return nil }
                current = a[i]
            default:
                return nil
            }
        }
        return current
    }

    static func holds(_ condition: DelimitedField.Condition, _ fields: [String: String]) -> Bool {
        switch condition {
        case .and(let a, let b): return holds(a, fields) && holds(b, fields)
        case .or(let a, let b): return holds(a, fields) || holds(b, fields)
        case .compare(let name, let op, let literal):
            guard let value = fields[name] else { return false }
            switch (op, literal) {
            case (.equal, .string(let s)): return wildcardMatch(value, s)
            case (.notEqual, .string(let s)): return !wildcardMatch(value, s)
            case (_, .string): return false
            case (_, .number(let n)):
                guard let v = Double(value) else { return op == .notEqual }
                switch op {
                case .equal: return v == n
                case .notEqual: return v != n
                case .less: return v < n
                case .lessOrEqual: return v <= n
                case .greater: return v > n
                case .greaterOrEqual: return v >= n
                }
            }
        }
    }

    /// Fields (with `...` as any run, tried longest first) and then every condition; returns the named fields.
    static func match(_ pattern: [DelimitedField], against values: [String]) -> [String: String]? {
        func go(_ p: Int, _ v: Int, _ captured: [String: String]) -> [String: String]? {
            if p == pattern.count { return v == values.count ? captured : nil }
            let field = pattern[p]
            guard let name = field.name else {
                for skip in stride(from: values.count - v, through: 0, by: -1) {
                    if let found = go(p + 1, v + skip, captured) { return found }
                }
                return nil
            }
            guard v < values.count else { return nil }
            var next = captured
            next[name] = values[v]
            return go(p + 1, v + 1, next)
        }
        guard let captured = go(0, 0, [:]) else { return nil }
        for field in pattern {
            if let condition = field.condition, !holds(condition, captured) { return nil }
        }
        return captured
    }

    /// Runs of non-spaces; `"…"` (without the quotes) and `[…]` (with the brackets) are one field each, text glued
    /// after the closing delimiter included. By `Character`, which for these ASCII delimiters is the same split.
    static func splitFields(_ message: String) -> [String] {
        let chars = Array(message.unicodeScalars)
        var fields: [String] = []
        var i = 0
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
        while i < chars.count {
            while i < chars.count, isSpace(chars[i]) { i += 1 }
            guard i < chars.count else { break }
            var field = String.UnicodeScalarView()
            if chars[i] == "\"" || chars[i] == "[" {
                let keep = chars[i] == "["
                let end: Unicode.Scalar = keep ? "]" : "\""
                if keep { field.append("[") }
                var j = i + 1
                while j < chars.count, chars[j] != end {
                    field.append(chars[j])
                    j += 1
                }
                if keep, j < chars.count { field.append("]") }
                i = j + 1
            }
            while i < chars.count, !isSpace(chars[i]) {
                field.append(chars[i])
                i += 1
            }
            fields.append(String(field))
        }
        return fields
    }
}
