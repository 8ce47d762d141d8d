/// `POST /api/v1/iam/mfa/enrol`: a new TOTP secret (base32) and its `otpauth://` URI to scan; not in force until a
/// code from it is confirmed (`next` says how).
public struct MFAEnrolment: Codable, Sendable, Equatable {
    public var secret: String
    public var otpauthURI: String
    public var next: String

    enum CodingKeys: String, CodingKey {
        case secret, next
        case otpauthURI = "otpauth_uri"
    }

    public init(secret: String, otpauthURI: String, next: String) {
        self.secret = secret
        self.otpauthURI = otpauthURI
        self.next = next
    }
}
