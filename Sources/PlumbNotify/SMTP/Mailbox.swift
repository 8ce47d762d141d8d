import Foundation

/// An address with an optional display name, `Plumb Alerts <plumb@example.com>`: the config's `smtp.from`.
///
/// Parsed once at the edge so that the `From:` header is built from checked parts (the name quoted, or RFC 2047
/// encoded when it is not ASCII) instead of from the text as typed.
public struct Mailbox: Sendable, Equatable {
    public var displayName: String?
    public var address: String

    public init(displayName: String? = nil, address: String) {
        self.displayName = displayName
        self.address = address
    }

    /// `addr` or `Name <addr>` (the name may be in double quotes); throws a message saying what is wrong.
    public init(parsing text: String) throws(MailboxError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.firstIndex(of: "<") else {
            if let problem = EmailAddress.problem(trimmed) { throw MailboxError("'\(trimmed)' \(problem)") }
            self.init(address: trimmed)
            return
        }
        guard trimmed.hasSuffix(">"), trimmed.lastIndex(of: "<") == open,
            trimmed.firstIndex(of: ">") == trimmed.index(before: trimmed.endIndex)
        else { throw MailboxError("'\(trimmed)' is neither an address nor Name <address>") }
        let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        if let problem = EmailAddress.problem(address) { throw MailboxError("'\(address)' \(problem)") }
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") { name = String(name.dropFirst().dropLast()) }
        if let control = name.unicodeScalars.first(where: EmailAddress.isControl) {
            throw MailboxError("the name '\(name)' holds the control character \(EmailAddress.describe(control))")
        }
        guard !name.contains("\"") && !name.contains("\\") else {
            throw MailboxError("the name '\(name)' holds a '\"' or '\\'")
        }
        self.init(displayName: name.isEmpty ? nil : name, address: address)
    }

    /// The header form: `"Plumb Alerts" <plumb@example.com>`, the name as encoded words when it is not ASCII.
    public var header: String {
        guard let displayName, !displayName.isEmpty else { return address }
        let clean = MailHeader.sanitized(displayName)
        if clean.unicodeScalars.allSatisfy(\.isASCII) {
            return "\""
                + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\" <\(address)>"
        }
        return MailHeader.encodedWords(clean).joined(separator: "\r\n ") + " <\(address)>"
    }
}

/// Why a mailbox was refused.
public struct MailboxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
