import Foundation

/// An HTTP/1.1 response as raw bytes came back.
public struct RawResponse: Sendable {
    public let status: Int
    /// Header fields by lowercased name.
    public let headers: [String: String]
    public let body: [UInt8]

    /// A response with a `Content-Length` body, when `bytes` hold all of it.
    public init?(parsing bytes: [UInt8]) {
        let end = Array("\r\n\r\n".utf8)
        guard let headEnd = bytes.indices.dropLast(3).first(where: { bytes[$0..<$0 + 4].elementsEqual(end) }) else {
            return nil
        }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard bytes.count >= headEnd + 4 + length else { return nil }
        self.status = status
        self.headers = headers
        self.body = Array(bytes[(headEnd + 4)..<(headEnd + 4 + length)])
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}
