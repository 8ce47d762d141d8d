/// The answer to `POST /api/v1/iam/mfa/confirm`: always `{"mfa_enabled": true}`.
public struct MFAStatus: Codable, Sendable, Equatable {
    public var mfaEnabled: Bool

    enum CodingKeys: String, CodingKey { case mfaEnabled = "mfa_enabled" }

    public init(mfaEnabled: Bool = true) { self.mfaEnabled = mfaEnabled }
}
