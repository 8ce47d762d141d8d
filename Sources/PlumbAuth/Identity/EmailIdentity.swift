import Foundation

/// An email address used as an identity (a sign-up, a sign-in, a reset): normalised so that one mailbox is one
/// identity, and refused when it could pass for another.
///
/// As identity providers do (Google's and Microsoft's sign-up rules, UTS #39 for look-alikes, UTS #46 for domains):
/// - control and invisible characters are refused outright: a NUL, CR or LF in an address that reaches SMTP is an
///   injection, a zero-width space is a second identity that looks like the first;
/// - the text is NFKC-normalised (full-width `ａ` is `a`) and lowercased;
/// - the part before `@` is ASCII letters, digits and `. _ + - '` only, so `bоb` with a Cyrillic `о` is refused
///   (it mixes scripts) rather than stored beside `bob`;
/// - each domain label is letters of one script (or a CJK mix), not all look-alikes of Latin letters (`аррӏе`),
///   and is stored in its IDNA `xn--` form: `bücher.de` and `xn--bcher-kva.de` are one identity, and the address
///   that reaches SMTP is ASCII.
public enum EmailIdentity {
    /// Why an address was refused, in words for a person (the caller prefixes the field name).
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The normalised address, or why it is refused.
    public static func normalise(_ text: String) -> Result<String, Refusal> {
        func refuse(_ message: String) -> Result<String, Refusal> { .failure(Refusal(message: message)) }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for scalar in trimmed.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator:
                return refuse("holds the control character \(hex(scalar))")
            case .format, .unassigned, .privateUse, .surrogate:
                return refuse("holds the invisible or unassigned character \(hex(scalar))")
            case .spaceSeparator:
                return refuse("holds a space")
            default:
                continue
            }
        }
        let folded = trimmed.precomposedStringWithCompatibilityMapping.lowercased()
            .replacingOccurrences(of: "\u{3002}", with: ".").replacingOccurrences(of: "\u{FF61}", with: ".")
        guard !folded.isEmpty else { return refuse("is empty") }
        guard folded.utf8.count <= 254 else { return refuse("is longer than 254 characters") }
        let parts = folded.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return refuse(parts.count < 2 ? "has no '@'" : "has more than one '@'") }
        let (local, domain) = (parts[0], parts[1])
        if let problem = localProblem(local) { return refuse(problem) }
        switch asciiDomain(String(domain)) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let ascii):
            let address = local + "@" + ascii
            guard address.utf8.count <= 254 else { return refuse("is longer than 254 characters") }
            return .success(String(address))
        }
    }

    static func localProblem(_ local: Substring) -> String? {
        guard !local.isEmpty else { return "has nothing before the '@'" }
        guard local.utf8.count <= 64 else { return "has more than 64 characters before the '@'" }
        if let foreign = local.unicodeScalars.first(where: { !$0.isASCII }) {
            let script = UnicodeScript(foreign)
            let latin = local.unicodeScalars.contains { $0.isASCII && $0.properties.isAlphabetic }
            if latin, script != .latin {
                let lookalike = UnicodeScript.latinLookalikes[foreign].map { ", which looks like Latin '\($0)'" } ?? ""
                return
                    "mixes scripts before the '@': \(script) '\(Character(foreign))' (\(hex(foreign)))\(lookalike) among Latin letters"
            }
            return
                "has '\(Character(foreign))' (\(hex(foreign))) before the '@': only ASCII letters, digits and . _ + - ' may be used there"
        }
        if let bad = local.first(where: { !($0.isLetter || $0.isNumber || "._+-'".contains($0)) }) {
            return "has '\(bad)' before the '@': only letters, digits and . _ + - ' may be used there"
        }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            return "has a dot at the start or end of the part before the '@', or two dots in a row"
        }
        return nil
    }

    /// The domain in IDNA A-label form, each label checked for look-alikes.
    static func asciiDomain(_ domain: String) -> Result<String, Refusal> {
        func refuse(_ message: String) -> Result<String, Refusal> { .failure(Refusal(message: message)) }
        var name = domain
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty else { return refuse("has nothing after the '@'") }
        guard labels.count >= 2 else { return refuse("has a domain without a dot") }
        var out: [String] = []
        for label in labels {
            guard !label.isEmpty else { return refuse("has an empty label in its domain") }
            var unicode = String(label)
            if label.hasPrefix("xn--") {
                guard label.allSatisfy(\.isASCII), let decoded = Punycode.decode(String(label.dropFirst(4))),
                    !decoded.isEmpty,
                    decoded.unicodeScalars.contains(where: { !$0.isASCII }),
                    decoded.precomposedStringWithCompatibilityMapping.lowercased() == decoded
                else { return refuse("has '\(label)' in its domain, which is not a valid IDNA label") }
                unicode = decoded
            }
            if let problem = labelProblem(unicode) { return refuse(problem) }
            if unicode.unicodeScalars.allSatisfy(\.isASCII) {
                out.append(unicode)
            } else {
                guard let encoded = Punycode.encode(unicode) else {
                    return refuse("has '\(unicode)' in its domain, which cannot be encoded")
                }
                out.append("xn--" + encoded)
            }
        }
        for label in out where label.utf8.count > 63 {
            return refuse("has a domain label longer than 63 characters (\(label))")
        }
        let ascii = out.joined(separator: ".")
        guard ascii.utf8.count <= 253 else { return refuse("has a domain longer than 253 characters") }
        guard !out.last!.allSatisfy(\.isNumber) else { return refuse("has a numeric top-level domain") }
        return .success(ascii)
    }

    /// Letters, digits and inner hyphens, of one script, and not all look-alikes of Latin letters.
    static func labelProblem(_ label: String) -> String? {
        guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
            return "has a domain label starting or ending with '-' (\(label))"
        }
        if let bad = label.unicodeScalars.first(where: { s in
            !(s == "-" || s.properties.isAlphabetic || s.properties.numericType == .decimal
                || UnicodeScript(s) == .inherited)
        }) {
            return "has '\(Character(bad))' (\(hex(bad))) in its domain: only letters, digits and '-' may be used there"
        }
        let scripts = UnicodeScript.scripts(of: label)
        guard UnicodeScript.mayMix(scripts) else {
            let names = scripts.map(\.description).sorted().joined(separator: " and ")
            let foreign = label.unicodeScalars.first { s in
                let k = UnicodeScript(s)
                return k != .latin && k != .common && k != .inherited
            }
            let lookalike =
                foreign.flatMap { f in
                    UnicodeScript.latinLookalikes[f].map { " ('\(Character(f))' looks like Latin '\($0)')" }
                } ?? ""
            return "mixes scripts in the domain label '\(label)': \(names)\(lookalike)"
        }
        let letters = label.unicodeScalars.filter { $0.properties.isAlphabetic }
        if let script = scripts.first, script != .latin, !letters.isEmpty,
            letters.allSatisfy({ UnicodeScript.latinLookalikes[$0] != nil })
        {
            let looks = String(label.unicodeScalars.map { UnicodeScript.latinLookalikes[$0] ?? Character($0) })
            return "has the domain label '\(label)', all \(script) letters that look like Latin '\(looks)'"
        }
        return nil
    }

    static func hex(_ s: Unicode.Scalar) -> String {
        let digits = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
