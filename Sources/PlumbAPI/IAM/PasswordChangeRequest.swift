/// `POST /api/v1/iam/password`: a user changes their own password; the current one must be right.
///
/// A field that is not a string counts as missing (`MissingParameter`), as it always has.
public struct PasswordChangeRequest: Codable, Sendable, Equatable {
    public var currentPassword: String
    public var newPassword: String

    enum CodingKeys: String, CodingKey {
        case currentPassword = "current_password"
        case newPassword = "new_password"
    }

    public init(currentPassword: String, newPassword: String) {
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let current = container.lenient(String.self, forKey: .currentPassword),
            let new = container.lenient(String.self, forKey: .newPassword)
        else {
            throw PlumbError(code: "MissingParameter", "'current_password' and 'new_password' are required")
        }
        self.init(currentPassword: current, newPassword: new)
    }
}
