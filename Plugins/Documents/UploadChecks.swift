import Crypto
import Foundation
import PlumbKit

/// What an upload must be: a non-empty plain UTF-8 text file within the size limit.
extension DocumentsPlugin {
    /// Why a body is not a plain UTF-8 text file, if it is not.
    static func problem(_ body: [UInt8], contentType: String?, maxBytes: Int) -> FunctionError? {
        if let contentType, !contentType.isEmpty {
            let type =
                contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                ?? ""
            guard type == "text/plain" || type == "application/octet-stream" else {
                return FunctionError(
                    status: 415, code: "UnsupportedMediaType",
                    message: "only text/plain files are accepted (this is \(type))")
            }
            if let charset = contentType.lowercased().split(separator: ";").dropFirst().first(where: {
                $0.contains("charset=")
            }),
                !charset.contains("utf-8"), !charset.contains("us-ascii")
            {
                return FunctionError(
                    status: 415, code: "UnsupportedCharset",
                    message: "only UTF-8 text is accepted (\(charset.trimmingCharacters(in: .whitespaces)))")
            }
        }
        guard !body.isEmpty else { return FunctionError(status: 400, code: "EmptyFile", message: "the file is empty") }
        guard body.count <= maxBytes else {
            return FunctionError(
                status: 413, code: "FileTooLarge",
                message: "the file has \(body.count) bytes; at most \(maxBytes) are accepted")
        }
        guard String(validating: body, as: UTF8.self) != nil else {
            let at = Self.firstInvalidUTF8(body)
            return FunctionError(
                status: 415, code: "InvalidUTF8",
                message: "the file is not valid UTF-8 (at byte \(at)); only UTF-8 text is accepted")
        }
        // Binary: a NUL, or control characters other than tab, newlines, form feed and escape.
        let controls = body.filter { $0 < 0x20 && ![0x09, 0x0A, 0x0D, 0x0C, 0x1B].contains($0) }.count
        if body.contains(0) || controls * 100 > body.count {
            return FunctionError(
                status: 415, code: "BinaryFile",
                message: "the file looks binary (NUL or control bytes); only plain text is accepted")
        }
        guard String(decoding: body, as: UTF8.self).contains(where: { !$0.isWhitespace }) else {
            return FunctionError(status: 400, code: "EmptyFile", message: "the file has only whitespace")
        }
        return nil
    }

    /// The offset of the first byte that does not start a well-formed UTF-8 sequence (the count when all do).
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return i
            }
            guard i + length <= bytes.count else { return i }
            var scalar = UInt32(length == 1 ? b : b & (0xFF >> (length + 1)))
            for j in 1..<length {
                guard bytes[i + j] & 0xC0 == 0x80 else { return i }
                scalar = scalar << 6 | UInt32(bytes[i + j] & 0x3F)
            }
            // Overlong forms, surrogates and values past U+10FFFF.
            if (length == 3 && (scalar < 0x800 || (0xD800...0xDFFF).contains(scalar)))
                || (length == 4 && (scalar < 0x10000 || scalar > 0x10FFFF))
            {
                return i
            }
            i += length
        }
        return bytes.count
    }
}

extension [UInt8] {
    /// The content's SHA-256, as `sha256sum` prints it.
    var sha256Hex: String { SHA256.hash(data: self).map { String(format: "%02x", $0) }.joined() }
}
