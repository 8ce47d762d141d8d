import Foundation
import PlumbAPI
import PlumbMetrics
import PlumbStore

/// The three inputs of an alarm page request, each checked before anything is looked up: a refusal names the
/// parameter (`name`, `exp`, `sig`) and echoes at most a clipped, control-free part of what was sent.
struct AlarmLinkRequest: Sendable, Equatable {
    let name: String
    let expires: Int64
    let signature: String

    /// `rawName` is the path parameter as it arrived (percent-encoded), `query` the decoded query parameters.
    static func parse(rawName: String?, query: [String: String]) throws -> AlarmLinkRequest {
        guard let rawName, !rawName.isEmpty else {
            throw APIError(code: "MissingParameter", "name: an alarm name is required in the path")
        }
        guard let name = rawName.removingPercentEncoding else {
            throw APIError("name: '\(Checked.shown(rawName))' is not valid percent-encoded UTF-8")
        }
        // The rules of alarm names (AlertFileParser.checkName): 1 to 255 characters, none of them a control character.
        guard !name.isEmpty, name.count <= 255 else {
            throw APIError("name: an alarm name has 1 to 255 characters (this one has \(name.count))")
        }
        if let bad = name.unicodeScalars.first(where: {
            $0.properties.generalCategory == .control || $0.value == 0xFFFD
        }) {
            throw APIError(
                "name: '\(Checked.shown(name))' holds U+\(String(format: "%04X", bad.value)), which no alarm name has")
        }
        guard let exp = query["exp"], !exp.isEmpty else {
            throw APIError(code: "MissingParameter", "exp is required: open the link exactly as the mail gave it")
        }
        // Whole seconds since 1970, at most 12 digits (year 33658): no sign, no exponent, no fraction.
        guard exp.utf8.count <= 12, exp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let expires = Int64(exp) else {
            throw APIError(
                "exp: '\(Checked.shown(exp))' is not the link's expiry (whole seconds since 1970, at most 12 digits)")
        }
        guard let sig = query["sig"], !sig.isEmpty else {
            throw APIError(code: "MissingParameter", "sig is required: open the link exactly as the mail gave it")
        }
        guard AlarmLinks.decodeBase64URL(sig) != nil else {
            throw APIError(
                "sig: '\(Checked.shown(sig))' is not a link signature (\(AlarmLinks.signatureLength) characters of base64url)"
            )
        }
        return AlarmLinkRequest(name: name, expires: expires, signature: sig)
    }

    /// The signature must be this server's for this name and expiry, and the expiry still ahead.
    func authorize(_ links: AlarmLinks, now: Int64) throws {
        guard links.verify(name: name, expires: expires, signature: signature) else {
            throw APIError(
                status: 403, code: "InvalidSignature",
                "sig does not match the alarm name and exp: the link was changed, or made by another server (or before its alarm-links.key was replaced)"
            )
        }
        guard now < expires else {
            throw APIError(
                status: 403, code: "LinkExpired",
                "exp: this link expired at \(TimeParsing.format(expires)); the alarm's next notification carries a new one"
            )
        }
    }
}
