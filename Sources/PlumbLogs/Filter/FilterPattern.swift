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
///
/// Matching works on the message's UTF-8 bytes (`FilterProgram`), so a search over stored rows or blocks needs no
/// `String` per event.
public struct FilterPattern: Sendable, Equatable {
    public let text: String
    let kind: Kind
    let program: FilterProgram

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
        program = try FilterProgram(kind)
    }

    /// Whether the event whose message is these UTF-8 bytes matches; `scratch` is reused from one event to the next.
    public func matches(_ bytes: UnsafeRawBufferPointer, scratch: inout FilterScratch) -> Bool {
        program.matches(bytes, scratch: &scratch)
    }

    public func matches(_ message: String) -> Bool {
        var message = message
        var scratch = FilterScratch()
        return message.withUTF8 { program.matches(UnsafeRawBufferPointer($0), scratch: &scratch) }
    }

    /// The result of matching one event: nil when it does not match, else the captured fields (a space-delimited
    /// pattern's named fields; none for the other kinds).
    public func match(_ message: String) -> [String: String]? {
        var message = message
        var scratch = FilterScratch()
        return message.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            if case .delimited(let delimited) = program { return delimited.captures(bytes, scratch: &scratch) }
            return program.matches(bytes, scratch: &scratch) ? [:] : nil
        }
    }

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
}

/// A pattern that does not parse.
public struct FilterPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
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
