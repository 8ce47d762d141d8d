import Foundation

/// Addresses that reach SMTP: the RFC 5321 `Mailbox` syntax, checked at every edge (topic subscriptions through
/// the API and alert files, the config's `smtp.from`, plugins' mail) and again by `SMTPClient` before it writes a
/// command.
///
/// Only the common subset is accepted: a dot-atom local part (RFC 5322 `atext`, no quoted strings) and a domain of
/// letter-digit-hyphen labels, all ASCII. Quoted local parts and address literals are legal but rare, and they
/// are where parsers disagree; a non-ASCII address would need SMTPUTF8 (RFC 6531), which the client does not speak,
/// so an internationalised domain is written in its `xn--` form. A CR, LF or NUL can never pass: the check that
/// `a@b.com\r\nDATA` failed before was the whole injection.
public enum EmailAddress {
    /// The addresses of an email endpoint (`a@x.com, b@y.org`).
    public static func split(_ endpoint: String) -> [String] {
        endpoint.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The bare address of `Name <addr>` or `addr`.
    public static func bare(_ text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            return String(text[text.index(after: open)..<close])
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    public static func isValid(_ address: String) -> Bool { problem(address) == nil }

    /// Why `address` is not a mailbox Plumb sends to, or nil when it is one.
    public static func problem(_ address: String) -> String? {
        if let control = address.unicodeScalars.first(where: isControl) {
            return "holds the control character \(describe(control)) (a line break or NUL could inject SMTP commands)"
        }
        guard address.unicodeScalars.allSatisfy(\.isASCII) else {
            return
                "holds non-ASCII characters (write an internationalised domain in its xn-- form; SMTPUTF8 is not used)"
        }
        guard let at = address.lastIndex(of: "@") else { return "has no '@'" }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty else { return "has nothing before the '@'" }
        guard local.utf8.count <= 64 else { return "has more than 64 characters before the '@'" }
        guard address.utf8.count <= 254 else { return "is longer than 254 characters" }
        if let bad = local.first(where: { !isAtext($0) && $0 != "." }) {
            return "has '\(bad)' before the '@' (letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ . only)"
        }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            return "has a dot at the start or end of the part before the '@', or two dots in a row"
        }
        if let problem = domainProblem(String(domain)) { return problem }
        return nil
    }

    /// Why `domain` is not a host name mail can go to: letter-digit-hyphen labels of 1 to 63 characters, at least two
    /// of them (or `localhost`), at most 253 characters.
    public static func domainProblem(_ domain: String) -> String? {
        guard !domain.isEmpty else { return "has nothing after the '@'" }
        guard domain.utf8.count <= 253 else { return "has a domain longer than 253 characters" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 || domain.lowercased() == "localhost" else {
            return "has a domain without a dot ('\(domain)')"
        }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else { return "has an empty or over-long label in its domain" }
            guard label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                return "has '\(label)' in its domain (letters, digits and '-' only)"
            }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
                return "has a domain label starting or ending with '-'"
            }
        }
        if labels.count >= 2, labels.last!.allSatisfy(\.isNumber) { return "has a numeric top-level domain" }
        return nil
    }

    /// Why `name` cannot follow EHLO: a host name of letter-digit-hyphen labels or an address literal (`[192.0.2.1]`).
    public static func heloProblem(_ name: String) -> String? {
        if let control = name.unicodeScalars.first(where: isControl) {
            return "holds the control character \(describe(control))"
        }
        guard !name.isEmpty, name.utf8.count <= 253 else { return "must have 1 to 253 characters" }
        if name.hasPrefix("[") && name.hasSuffix("]") {
            let inner = name.dropFirst().dropLast()
            guard !inner.isEmpty,
                inner.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "." || $0 == ":" || $0 == "v" || $0 == "V") })
            else { return "is not an address literal like [192.0.2.1]" }
            return nil
        }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-"),
                label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else { return "is not a host name (letters, digits, '-' and dots)" }
        }
        return nil
    }

    /// RFC 5322 `atext`.
    static func isAtext(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "!#$%&'*+-/=?^_`{|}~".contains(c))
    }

    /// C0 and C1 controls and DEL (CR, LF, NUL, TAB among them), and the Unicode line and paragraph separators.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    /// `U+000D`, for messages (the character itself would be invisible or break the line).
    static func describe(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
