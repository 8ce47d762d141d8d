/// `POST /api/v1/iam/login`: a platform user's name and password, and the current TOTP code once the user has a
/// device (`plumb login --user NAME`).
///
/// A field that is not a string counts as missing, as it always has (`MissingParameter`).
public struct LoginRequest: Codable, Sendable, Equatable {
    public var user: String
    public var password: String
    /// The TOTP code; without one, a user with a device is answered `MFARequired`.
    public var code: String?

    enum CodingKeys: String, CodingKey { case user, password, code }

    public init(user: String, password: String, code: String? = nil) {
        self.user = user
        self.password = password
        self.code = code
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let user = container.lenient(String.self, forKey: .user),
            let password = container.lenient(String.self, forKey: .password)
        else {
            throw PlumbError(code: "MissingParameter", "'user' and 'password' are required")
        }
        self.init(user: user, password: password, code: container.lenient(String.self, forKey: .code))
    }
}
