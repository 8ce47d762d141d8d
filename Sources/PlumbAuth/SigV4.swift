import Crypto
import Foundation

/// AWS Signature Version 4, verified: what the AWS SDKs and the aws CLI sign every request with, in the
/// `Authorization` header or in the query string (a presigned URL).
///
/// The server rebuilds the canonical request from what it received (method, path, query, the signed headers, the
/// body's SHA-256), derives the signing key from the access key's secret and the credential scope, and compares the
/// signature in constant time. A request whose time is more than `maxSkew` from the server's is refused, as is a
/// presigned URL past its `X-Amz-Expires`.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// AWS refuses requests signed more than 15 minutes from its clock.
    public static let maxSkew: Int64 = 15 * 60
    /// The longest a presigned URL may live (7 days, as AWS).
    public static let maxExpires: Int64 = 7 * 86_400

    /// What a request claims: the access key, scope and signature, and where they came from.
    public struct Credential: Sendable, Equatable {
        public var accessKey: String
        /// `YYYYMMDD`
        public var date: String
        public var region: String
        public var service: String
        public var signedHeaders: [String]
        public var signature: String
        /// `YYYYMMDDTHHMMSSZ`
        public var time: String
        /// Seconds a presigned URL is valid for (nil: signed in the header).
        public var expires: Int64?

        public var scope: String { "\(date)/\(region)/\(service)/aws4_request" }
    }

    /// Why a signature was refused, by AWS's error codes.
    public enum Failure: Error, Sendable, Equatable {
        /// No signature at all.
        case missing
        /// A signature that cannot be read; the message says what is wrong.
        case malformed(String)
        /// No such access key (or a disabled one).
        case unknownKey(String)
        /// The signature does not match (the secret, the request or the scope differ).
        case mismatch
        /// Signed too far from now, or a presigned URL past its expiry.
        case expired(String)
    }

    /// A received request, as the verifier needs it: `path` and `query` exactly as they arrived (still
    /// percent-encoded), header names in any case.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(
            method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8]
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    /// Reads the signature of `request` (header or presigned form) without verifying it: the access key and scope
    /// route the request before its key's secret is looked up.
    public static func credential(of request: Request) throws(Failure) -> Credential {
        if let authorization = request.header("authorization") {
            return try parseAuthorization(authorization, time: request.header("x-amz-date"))
        }
        let query = queryItems(request.query)
        if query.contains(where: { $0.name == "X-Amz-Signature" }) {
            return try parsePresigned(query)
        }
        throw .missing
    }

    /// Verifies `request` signed with `credential` by `secret`, at `now` (epoch seconds).
    public static func verify(_ request: Request, credential: Credential, secret: String, now: Int64) throws(Failure) {
        guard let signedAt = parseTime(credential.time) else {
            throw .malformed("X-Amz-Date '\(credential.time)' is not YYYYMMDDTHHMMSSZ")
        }
        guard credential.time.hasPrefix(credential.date) else {
            throw .malformed("the credential's date \(credential.date) is not the request's (\(credential.time))")
        }
        if let expires = credential.expires {
            guard now >= signedAt - maxSkew else {
                throw .expired("Signature not yet current: \(credential.time) is after now")
            }
            guard now <= signedAt + expires else {
                throw .expired("Request has expired: signed \(credential.time), valid for \(expires) seconds")
            }
        } else {
            guard abs(now - signedAt) <= maxSkew else {
                throw .expired(
                    "Signature expired: \(credential.time) is more than 15 minutes from the server's time \(format(now))"
                )
            }
        }
        if let claimed = request.header("x-amz-content-sha256") {
            guard claimed != "UNSIGNED-PAYLOAD" else { throw .malformed("an unsigned payload is not accepted here") }
            guard claimed.lowercased() == hex(SHA256.hash(data: request.body)) else {
                throw .malformed("x-amz-content-sha256 is not the SHA-256 of the body received")
            }
        }
        let expected = signature(
            of: request, signedHeaders: credential.signedHeaders, time: credential.time, scope: credential.scope,
            presigned: credential.expires != nil, secret: secret, date: credential.date, region: credential.region,
            service: credential.service)
        guard constantTimeEqual(Array(expected.utf8), Array(credential.signature.lowercased().utf8)) else {
            throw .mismatch
        }
    }

    /// Signs as a client does (used by tests and by Plumb's own AWS clients): the hex signature of `request` over
    /// `signedHeaders` at `time`.
    public static func signature(
        of request: Request, signedHeaders: [String], time: String, scope: String, presigned: Bool, secret: String,
        date: String, region: String, service: String
    ) -> String {
        let canonical = canonicalRequest(request, signedHeaders: signedHeaders, presigned: presigned)
        let stringToSign = [algorithm, time, scope, hex(SHA256.hash(data: Array(canonical.utf8)))].joined(
            separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// The canonical request of SigV4 (non-S3 rules: the path is encoded again, query pairs sorted and encoded).
    static func canonicalRequest(_ request: Request, signedHeaders: [String], presigned: Bool) -> String {
        let path = request.path.isEmpty ? "/" : encode(request.path, keepSlash: true)
        var pairs: [(name: String, value: String)] = []
        for item in queryItems(request.query) where !(presigned && item.name == "X-Amz-Signature") {
            pairs.append((encode(item.name, keepSlash: false), encode(item.value, keepSlash: false)))
        }
        pairs.sort { (a: (name: String, value: String), b: (name: String, value: String)) -> Bool in
            a.name == b.name ? a.value < b.value : a.name < b.name
        }
        let query = pairs.map { $0.name + "=" + $0.value }.joined(separator: "&")
        let headers = signedHeaders.map { name in
            let values = request.headers.filter { $0.name.lowercased() == name }.map { trimmed($0.value) }
            return "\(name):\(values.joined(separator: ","))\n"
        }.joined()
        // Always the hash of the body received: these are not S3's APIs, so an unsigned payload is never taken
        // (`verify` refuses `UNSIGNED-PAYLOAD` and a header that is not this hash).
        let payload = hex(SHA256.hash(data: request.body))
        return [request.method, path, query, headers, signedHeaders.joined(separator: ";"), payload].joined(
            separator: "\n")
    }

    static func parseAuthorization(_ header: String, time: String?) throws(Failure) -> Credential {
        guard header.hasPrefix(algorithm + " ") else {
            throw .malformed("Authorization must be '\(algorithm) Credential=…, SignedHeaders=…, Signature=…'")
        }
        var fields: [String: String] = [:]
        for part in header.dropFirst(algorithm.count + 1).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "=") else {
                throw .malformed("Authorization: '\(pair)' is not NAME=VALUE")
            }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else { throw .malformed("Authorization needs Credential, SignedHeaders and Signature") }
        guard let time else { throw .malformed("X-Amz-Date is required with an AWS4-HMAC-SHA256 Authorization") }
        return try make(credential: credential, signedHeaders: signedHeaders, signature: signature, time: time)
    }

    static func parsePresigned(_ query: [(name: String, value: String)]) throws(Failure) -> Credential {
        func value(_ name: String) throws(Failure) -> String {
            guard let value = query.first(where: { $0.name == name })?.value else {
                throw .malformed("a presigned request needs \(name)")
            }
            return value
        }
        guard try value("X-Amz-Algorithm") == algorithm else {
            throw .malformed("X-Amz-Algorithm must be \(algorithm)")
        }
        let expiresText = try value("X-Amz-Expires")
        guard let expires = Int64(expiresText), expires >= 1, expires <= maxExpires else {
            throw .malformed("X-Amz-Expires must be 1 to \(maxExpires) seconds")
        }
        var credential = try make(
            credential: try value("X-Amz-Credential"), signedHeaders: try value("X-Amz-SignedHeaders"),
            signature: try value("X-Amz-Signature"), time: try value("X-Amz-Date"))
        credential.expires = expires
        return credential
    }

    static func make(
        credential: String, signedHeaders: String, signature: String, time: String
    ) throws(Failure)
        -> Credential
    {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", !parts[0].isEmpty, parts[1].count == 8 else {
            throw .malformed("Credential must be ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request")
        }
        let headers = signedHeaders.split(separator: ";").map { String($0) }
        guard !headers.isEmpty, headers.allSatisfy({ $0 == $0.lowercased() }), headers == headers.sorted() else {
            throw .malformed("SignedHeaders must be lowercase names, sorted, separated by ';'")
        }
        guard headers.contains("host") else { throw .malformed("SignedHeaders must include host") }
        guard signature.count == 64, signature.allSatisfy(\.isHexDigit) else {
            throw .malformed("Signature must be 64 hex digits")
        }
        return Credential(
            accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3], signedHeaders: headers,
            signature: signature, time: time)
    }

    /// Query pairs, percent-decoded (`+` is a space only in form bodies, not here).
    static func queryItems(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (name, value)
        }
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters (and `/` in a path).
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// A header value with its ends trimmed and inner runs of spaces made one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }

    /// `YYYYMMDDTHHMMSSZ` as epoch seconds.
    public static func parseTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)
    }

    /// Epoch seconds as `YYYYMMDDTHHMMSSZ`.
    public static func format(_ seconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(seconds))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String { String(n ?? 0).leftPadded(to: 2) }
        return String(c.year ?? 0).leftPadded(to: 4) + two(c.month) + two(c.day) + "T" + two(c.hour)
            + two(c.minute) + two(c.second) + "Z"
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
