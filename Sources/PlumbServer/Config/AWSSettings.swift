/// The `aws:` section: the region and account id the AWS API answers as (in ARNs, and `aws.config`'s region).
public struct AWSSettings: Sendable, Decodable {
    public var region = "us-east-1"
    /// Twelve digits.
    public var accountID = "000000000000"

    enum CodingKeys: String, CodingKey {
        case region
        case accountID = "account_id"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        region = try c.decodeIfPresent(String.self, forKey: .region) ?? region
        accountID = try c.decodeIfPresent(String.self, forKey: .accountID) ?? accountID
        guard !region.isEmpty, region.count <= 32,
            region.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" })
        else { throw ConfigError("aws.region must be lowercase letters, digits and '-', like us-east-1") }
        guard accountID.count == 12, accountID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError("aws.account_id must be twelve digits")
        }
    }
}
