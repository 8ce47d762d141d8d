/// An AWS access key of an IAM user (`/api/v1/iam/users/{name}/access-keys`): what the AWS SDKs and the aws CLI sign
/// requests to Plumb's AWS API with. The secret is in the answer that made the key, and nowhere else.
public struct AWSAccessKey: Codable, Sendable, Equatable {
    /// `PKIA` and 16 characters of base-32.
    public var accessKeyId: String
    public var user: String
    /// RFC 3339.
    public var created: String
    /// Only when the key is made.
    public var secretAccessKey: String?

    enum CodingKeys: String, CodingKey {
        case accessKeyId = "access_key_id"
        case user, created
        case secretAccessKey = "secret_access_key"
    }

    public init(accessKeyId: String, user: String, created: String, secretAccessKey: String? = nil) {
        self.accessKeyId = accessKeyId
        self.user = user
        self.created = created
        self.secretAccessKey = secretAccessKey
    }
}

/// A user's access keys, oldest first (`GET /api/v1/iam/users/{name}/access-keys`), without their secrets.
public struct AWSAccessKeyList: Codable, Sendable, Equatable {
    public var accessKeys: [AWSAccessKey]

    enum CodingKeys: String, CodingKey { case accessKeys = "access_keys" }

    public init(accessKeys: [AWSAccessKey]) { self.accessKeys = accessKeys }
}
