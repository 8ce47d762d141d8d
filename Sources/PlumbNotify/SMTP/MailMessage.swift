import Foundation

/// An RFC 5322 message with a multipart/alternative body (plain text and HTML), UTF-8 throughout. With inline
/// images the HTML and its pictures travel in a multipart/related part (the structure mail clients expect:
/// alternative ⊃ [text, related ⊃ [html, images]]).
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
    /// Pictures the HTML shows through `cid:` URLs; ignored without `html`.
    public var inlineImages: [InlineImage]

    public init(
        from: String, to: [String], subject: String, text: String, html: String? = nil, messageID: String,
        date: Date = Date(),
        extraHeaders: [(String, String)] = [], inlineImages: [InlineImage] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
        self.inlineImages = inlineImages
    }

    /// The whole message with CRLF line ends, before dot-stuffing. Every header value goes through `MailHeader`:
    /// no CR, LF or NUL from any field reaches the wire, whatever the caller passed.
    public func rendered() -> String {
        let sender = (try? Mailbox(parsing: from))?.header ?? MailHeader.sanitized(EmailAddress.bare(from))
        var headers: [(String, String)] = [
            ("Date", Self.rfc5322Date(date)),
            ("From", sender),
            ("To", MailHeader.sanitized(to.map(EmailAddress.bare).joined(separator: ", "))),
            ("Subject", MailHeader.encoded(subject)),
            ("Message-ID", "<\(MailHeader.sanitized(messageID).replacingOccurrences(of: " ", with: ""))>"),
            ("MIME-Version", "1.0"),
        ]
        headers += extraHeaders.compactMap { name, value in
            // A field name is printable ASCII without ':' or space (RFC 5322 §2.2); anything else is dropped.
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 && $0 != ":" }) else {
                return nil
            }
            return (name, MailHeader.encoded(value))
        }
        var out = ""
        func line(_ s: String) { out += s + "\r\n" }
        let boundary = "plumb-" + UUID().uuidString.lowercased()
        func textPart(_ type: String, _ body: String) {
            line("Content-Type: \(type); charset=utf-8")
            line("Content-Transfer-Encoding: base64")
            line("")
            out += Self.base64Lines(body)
        }
        if let html {
            headers.append(("Content-Type", "multipart/alternative; boundary=\"\(boundary)\""))
            for (k, v) in headers { line("\(k): \(v)") }
            line("")
            line("This is a multi-part message in MIME format.")
            line("--\(boundary)")
            textPart("text/plain", text)
            line("--\(boundary)")
            if inlineImages.isEmpty {
                textPart("text/html", html)
            } else {
                // Not an extension of the outer boundary: a delimiter must not begin another part's (RFC 2046 §5.1.1).
                let related = "related-" + UUID().uuidString.lowercased()
                line("Content-Type: multipart/related; boundary=\"\(related)\"; type=\"text/html\"")
                line("")
                line("--\(related)")
                textPart("text/html", html)
                for image in inlineImages {
                    let name = image.filename.filter {
                        $0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "." || $0 == "-" || $0 == "_"
                    }.prefix(64)
                    let type = image.contentType.filter {
                        $0.isASCII && ($0.isLetter || $0.isNumber) || $0 == "/" || $0 == "+" || $0 == "-" || $0 == "."
                    }
                    line("--\(related)")
                    line("Content-Type: \(type.isEmpty ? "application/octet-stream" : type)")
                    line("Content-Transfer-Encoding: base64")
                    line("Content-ID: <\(image.safeContentID)>")
                    line("Content-Disposition: inline; filename=\"\(name.isEmpty ? "image" : name)\"")
                    line("")
                    out += Self.base64Lines(image.data)
                }
                line("--\(related)--")
            }
            line("--\(boundary)--")
        } else {
            headers += [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "base64")]
            for (k, v) in headers { line("\(k): \(v)") }
            line("")
            out += Self.base64Lines(text)
        }
        return out
    }

    /// SMTP transparency (RFC 5321 §4.5.2): a line starting with "." gets another; the data ends with CRLF.CRLF.
    /// Bare CR and LF become CRLF, so no line end other than the renderer's reaches the server.
    public static func dotStuffed(_ message: String) -> String {
        var normalized = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        let lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix(".") ? "." + $0 : String($0)
        }
        return lines.joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// RFC 2047 encoded words (`=?UTF-8?B?…?=`) for non-ASCII text, each under 76 characters, folded.
    public static func encodeHeader(_ value: String) -> String { MailHeader.encoded(value) }

    static func base64Lines(_ text: String) -> String { base64Lines(Array(text.utf8)) }

    static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Data(bytes).base64EncodedString()
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
            format: "%@, %02d %@ %04d %02d:%02d:%02d +0000", days[Int(parts.tm_wday)], parts.tm_mday,
            months[Int(parts.tm_mon)],
            parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
