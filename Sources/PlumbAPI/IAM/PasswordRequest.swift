/// `PUT /api/v1/iam/users/{name}/password`: an admin sets a user's sign-in password (the password rules apply).
///
/// A password that is not a string counts as missing (`MissingParameter`), as it always has.
public struct PasswordRequest: Codable, Sendable, Equatable {
    public var password: String

    enum CodingKeys: String, CodingKey { case password }

    public init(password: String) { self.password = password }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let password = container.lenient(String.self, forKey: .password) else {
            throw PlumbError(code: "MissingParameter", "'password' is required")
        }
        self.password = password
    }
}
