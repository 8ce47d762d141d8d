import Foundation
import PlumbAPI

/// A CloudWatch Logs filter pattern: terms, a JSON pattern (`{ … }`) or a space-delimited pattern (`[ … ]`).
///
/// - Terms: `ERROR Exception` (all), `?ERROR ?WARN` (any), `-DEBUG` (none of), `"exact phrase"`; case-sensitive
///   substring matches. An empty pattern or `" "` matches every event.
/// - JSON: `{ $.a.b[0] = "x*" }`, `!=`, numeric `< > <= >= =`, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`,
///   `&&` (binds tighter), `||`, parentheses. Events that are not JSON objects never match.
/// - Space-delimited: `[ip, user, ..., status = 4*, bytes]`; fields split on spaces, text in `""` or `[]` is one
///   field, `...` stands for any number of fields; conditions on a field combine with `&&` and `||`. Matching
///   events expose their named fields as captures (`$bytes`) for metric filters.
public struct FilterPattern: Sendable, Equatable {
    public let text: String
    let kind: Kind

    enum Kind: Sendable, Equatable {
        case all
        case terms(required: [String], optional: [String], excluded: [String])
        case json(JSONCondition)
        case delimited([DelimitedField])
    }

    public init(_ text: String) throws(FilterPatternError) {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "\" \"" || trimmed == "\"\"" {
            kind = .all
        } else if trimmed.hasPrefix("{") {
            guard trimmed.hasSuffix("}") else { throw FilterPatternError("a JSON pattern ends with '}'") }
            var parser = JSONPatternParser(String(trimmed.dropFirst().dropLast()))
            kind = .json(try parser.parse())
        } else if trimmed.hasPrefix("[") {
            guard trimmed.hasSuffix("]") else { throw FilterPatternError("a space-delimited pattern ends with ']'") }
            kind = .delimited(try DelimitedField.parseList(String(trimmed.dropFirst().dropLast())))
        } else {
            kind = try Self.parseTerms(trimmed)
        }
    }

    /// The result of matching one event: nil when it does not match, else the captured fields.
    public func match(_ message: String) -> [String: String]? {
        switch kind {
        case .all:
            return [:]
        case .terms(let required, let optional, let excluded):
            for term in required where !bytesContain(message, term) { return nil }
            for term in excluded where bytesContain(message, term) { return nil }
            if !optional.isEmpty, !optional.contains(where: { bytesContain(message, $0) }) { return nil }
            return [:]
        case .json(let condition):
            // Only an object can match: skip the parse for everything that does not start with '{'.
            guard message.utf8.first(where: { $0 != 32 && $0 != 9 }) == UInt8(ascii: "{"),
                let json = JSONValue.parseStrict(message.utf8), case .object = json
            else { return nil }
            return condition.holds(in: json) ? [:] : nil
        case .delimited(let fields):
            return DelimitedField.match(fields, against: Self.splitFields(message))
        }
    }

    public func matches(_ message: String) -> Bool { match(message) != nil }

    /// For term patterns, an SQL condition on a `message` column (with its arguments) that selects exactly the
    /// matching rows, so a search reads only those; nil for the other kinds.
    public var sqlCondition: (sql: String, arguments: [String])? {
        guard case .terms(let required, let optional, let excluded) = kind else { return nil }
        var parts: [String] = []
        var arguments: [String] = []
        for term in required {
            parts.append("instr(message, ?) > 0")
            arguments.append(term)
        }
        for term in excluded {
            parts.append("instr(message, ?) = 0")
            arguments.append(term)
        }
        if !optional.isEmpty {
            parts.append("(" + optional.map { _ in "instr(message, ?) > 0" }.joined(separator: " OR ") + ")")
            arguments += optional
        }
        return parts.isEmpty ? nil : (parts.joined(separator: " AND "), arguments)
    }

    static func parseTerms(_ text: String) throws(FilterPatternError) -> Kind {
        var required: [String] = []
        var optional: [String] = []
        var excluded: [String] = []
        var chars = Substring(text)
        while true {
            while chars.first == " " || chars.first == "\t" { chars = chars.dropFirst() }
            guard let first = chars.first else { break }
            var prefix: Character?
            if first == "?" || first == "-" {
                prefix = first
                chars = chars.dropFirst()
            }
            var term = ""
            if chars.first == "\"" {
                chars = chars.dropFirst()
                var closed = false
                while let c = chars.first {
                    chars = chars.dropFirst()
                    if c == "\\", let next = chars.first {
                        term.append(next)
                        chars = chars.dropFirst()
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        term.append(c)
                    }
                }
                guard closed else { throw FilterPatternError("unterminated quoted term") }
            } else {
                while let c = chars.first, c != " ", c != "\t" {
                    term.append(c)
                    chars = chars.dropFirst()
                }
            }
            guard !term.isEmpty else {
                if prefix != nil { throw FilterPatternError("'\(prefix!)' must be followed by a term") }
                continue
            }
            switch prefix {
            case "?": optional.append(term)
            case "-": excluded.append(term)
            default: required.append(term)
            }
        }
        return .terms(required: required, optional: optional, excluded: excluded)
    }

    /// Fields of a space-delimited event: runs of non-spaces; `"…"` and `[…]` are one field each (without the
    /// quotes, with the brackets). Works on UTF-8 bytes: the delimiters are ASCII.
    static func splitFields(_ message: String) -> [String] {
        var fields: [String] = []
        var text = message
        text.withUTF8 { bytes in
            let space = UInt8(ascii: " ")
            let tab = UInt8(ascii: "\t")
            let quote = UInt8(ascii: "\"")
            let open = UInt8(ascii: "[")
            let close = UInt8(ascii: "]")
            var i = 0
            let n = bytes.count
            while i < n {
                while i < n, bytes[i] == space || bytes[i] == tab { i += 1 }
                guard i < n else { break }
                if bytes[i] == quote || bytes[i] == open {
                    let end = bytes[i] == quote ? quote : close
                    let keepBrackets = bytes[i] == open
                    let start = keepBrackets ? i : i + 1
                    var j = i + 1
                    while j < n, bytes[j] != end { j += 1 }
                    let stop = keepBrackets ? min(j + 1, n) : j
                    fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<stop]), as: UTF8.self))
                    i = j + 1
                    // Text glued to the closing delimiter belongs to the same field.
                    var k = i
                    while k < n, bytes[k] != space, bytes[k] != tab { k += 1 }
                    if k > i {
                        fields[fields.count - 1] += String(
                            decoding: UnsafeBufferPointer(rebasing: bytes[i..<k]), as: UTF8.self)
                        i = k
                    }
                } else {
                    let start = i
                    while i < n, bytes[i] != space, bytes[i] != tab { i += 1 }
                    fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
                }
            }
        }
        return fields
    }
}

/// A pattern that does not parse.
public struct FilterPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Case-sensitive substring test on UTF-8 bytes (CloudWatch's term matching; much faster than `String.contains`).
func bytesContain(_ haystack: String, _ needle: String) -> Bool {
    var haystack = haystack
    var needle = needle
    return haystack.withUTF8 { h in
        needle.withUTF8 { n in
            guard n.count > 0 else { return true }
            guard h.count >= n.count else { return false }
            let first = n[0]
            let last = h.count - n.count
            var i = 0
            while i <= last {
                if h[i] == first {
                    var j = 1
                    while j < n.count && h[i + j] == n[j] { j += 1 }
                    if j == n.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}

/// `*` matches any run of characters; everything else literally.
func wildcardMatch(_ text: String, _ pattern: String) -> Bool {
    guard pattern.contains("*") else { return text == pattern }
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
    var rest = Substring(text)
    for (i, part) in parts.enumerated() {
        if i == 0 {
            guard rest.hasPrefix(part) else { return false }
            rest = rest.dropFirst(part.count)
        } else if i == parts.count - 1 {
            return part.isEmpty || rest.hasSuffix(part)
        } else if !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
    }
    return true
}
