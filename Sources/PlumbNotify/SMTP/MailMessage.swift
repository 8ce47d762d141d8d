import Foundation

/// An RFC 5322 message with a multipart/alternative body (plain text and HTML), UTF-8 throughout.
public struct MailMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String?
    /// Without angle brackets.
    public var messageID: String
    public var date: Date
    public var extraHeaders: [(String, String)]

    public init(
        from: String, to: [String], subject: String, text: String, html: String? = nil, messageID: String, date: Date = Date(),
        extraHeaders: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
    }

    /// The whole message with CRLF line ends, before dot-stuffing.
    public func rendered() -> String {
        var headers: [(String, String)] = [
            ("Date", Self.rfc5322Date(date)),
            ("From", from),
            ("To", to.joined(separator: ", ")),
            ("Subject", Self.encodeHeader(subject)),
            ("Message-ID", "<\(messageID)>"),
            ("MIME-Version", "1.0"),
        ]
        headers += extraHeaders.map { ($0.0, Self.encodeHeader($0.1)) }
        var out = ""
        func line(_ s: String) { out += s + "\r\n" }
        let boundary = "plumb-" + UUID().uuidString.lowercased()
        if let html {
            headers.append(("Content-Type", "multipart/alternative; boundary=\"\(boundary)\""))
            for (k, v) in headers { line("\(k): \(Self.strip(v))") }
            line("")
            line("This is a multi-part message in MIME format.")
            for (type, body) in [("text/plain", text), ("text/html", html)] {
                line("--\(boundary)")
                line("Content-Type: \(type); charset=utf-8")
                line("Content-Transfer-Encoding: base64")
                line("")
                out += Self.base64Lines(body)
            }
            line("--\(boundary)--")
        } else {
            headers += [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "base64")]
            for (k, v) in headers { line("\(k): \(Self.strip(v))") }
            line("")
            out += Self.base64Lines(text)
        }
        return out
    }

    /// SMTP transparency (RFC 5321 §4.5.2): a line starting with "." gets another; the data ends with CRLF.CRLF.
    public static func dotStuffed(_ message: String) -> String {
        var normalized = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        let lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return lines.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// RFC 2047 encoded words (`=?UTF-8?B?…?=`) for non-ASCII text, each under 76 characters, folded.
    public static func encodeHeader(_ value: String) -> String {
        let clean = strip(value)
        guard clean.unicodeScalars.contains(where: { !$0.isASCII }) else { return clean }
        var words: [String] = []
        var chunk = ""
        for character in clean {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    /// Header values never carry line breaks of their own (header injection).
    static func strip(_ value: String) -> String {
        // Folding inserted by `encodeHeader` is kept; bare CR/LF from input are not.
        value.replacingOccurrences(of: "\r\n ", with: "\u{0}")
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\u{0}", with: "\r\n ")
    }

    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        var out = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += encoded[index..<end] + "\r\n"
            index = end
        }
        return out
    }

    /// `Sun, 22 Nov 2026 10:00:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d +0000", days[Int(parts.tm_wday)], parts.tm_mday, months[Int(parts.tm_mon)],
            parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
