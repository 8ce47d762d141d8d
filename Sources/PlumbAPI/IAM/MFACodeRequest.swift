/// `POST /api/v1/iam/mfa/confirm`: a code from the enrolled device puts it in force.
///
/// A code that is not a string counts as missing (`MissingParameter`), as it always has.
public struct MFACodeRequest: Codable, Sendable, Equatable {
    public var code: String

    enum CodingKeys: String, CodingKey { case code }

    public init(code: String) { self.code = code }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let code = container.lenient(String.self, forKey: .code) else {
            throw PlumbError(code: "MissingParameter", "'code' is required")
        }
        self.code = code
    }
}
