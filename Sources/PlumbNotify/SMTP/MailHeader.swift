import Foundation

/// Header values as they go on the wire: never a raw CR, LF or NUL from input, non-ASCII text as RFC 2047 encoded
/// words, and lines folded under 78 characters (RFC 5322 §2.1.1) by the renderer alone.
///
/// Folding is the only CRLF a header may hold, and only this type writes it: input is sanitised first, so text that
/// arrives already "folded" (`"x\r\n Bcc: …"`) cannot smuggle a line of its own.
public enum MailHeader {
    /// The value with every control character (C0, C1, DEL) and line or paragraph separator replaced by a space.
    public static func sanitized(_ value: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            out.append(EmailAddress.isControl(scalar) ? " " : scalar)
        }
        return String(out)
    }

    /// A header value ready to follow `Name: `: ASCII text folded at spaces, anything else (or text that looks like
    /// an encoded word, or holds a run too long to fold) as encoded words, one per folded line.
    public static func encoded(_ value: String) -> String {
        let clean = sanitized(value)
        let foldable = clean.split(separator: " ").allSatisfy { $0.utf8.count <= 900 }
        guard clean.unicodeScalars.allSatisfy(\.isASCII), !clean.contains("=?"), foldable else {
            return encodedWords(clean).joined(separator: "\r\n ")
        }
        return folded(clean)
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words of at most 45 bytes of text each (72 characters), never splitting a character.
    public static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk = ""
        for character in text {
            if chunk.utf8.count + String(character).utf8.count > 45, !chunk.isEmpty {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty || words.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }
    }

    /// ASCII text folded before a space wherever a line would pass 70 characters (room for the name).
    static func folded(_ text: String) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !line.isEmpty, line.utf8.count + 1 + word.utf8.count > 70 {
                lines.append(line)
                line = String(word)
            } else {
                line += (line.isEmpty && lines.isEmpty ? "" : " ") + word
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n ")
    }
}
