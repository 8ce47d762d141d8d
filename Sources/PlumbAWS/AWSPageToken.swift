import Foundation
import PlumbAPI

/// The page tokens of every listing the AWS API pages (`NextToken`, `nextToken`): where the next page starts in the
/// listing, opaque to the client (base64 of `list:N`).
enum AWSPageToken {
    static func encode(_ offset: Int) -> JSONValue { .string(Data("list:\(offset)".utf8).base64EncodedString()) }

    /// The offset a token names, within `0...count`; nil for a token this endpoint did not give.
    static func offset(_ text: String, count: Int) -> Int? {
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
            decoded.hasPrefix("list:"), let offset = Int(decoded.dropFirst(5)), (0...count).contains(offset)
        else { return nil }
        return offset
    }
}
