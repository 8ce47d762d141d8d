/// ARNs in AWS's form, with the account id and region Plumb answers as (`aws.account_id`, `aws.region`).
public struct AWSNames: Sendable, Equatable {
    public var region: String
    public var account: String

    /// The defaults: us-east-1, and the twelve zeros LocalStack and moto answer with too.
    public init(region: String = "us-east-1", account: String = "000000000000") {
        self.region = region
        self.account = account
    }

    public func alarmARN(_ name: String) -> String { "arn:aws:cloudwatch:\(region):\(account):alarm:\(name)" }
    public func topicARN(_ name: String) -> String { "arn:aws:sns:\(region):\(account):\(name)" }
    public func logGroupARN(_ name: String) -> String { "arn:aws:logs:\(region):\(account):log-group:\(name)" }

    /// The topic an SNS topic ARN (any region or account: there is one of each here) or a bare name names.
    public func topic(fromARN text: String, member: String) throws -> String {
        guard text.hasPrefix("arn:") else { return text }
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[1].hasPrefix("aws"), parts[2] == "sns", !parts[5].isEmpty else {
            throw AWSError.invalidParameter(
                "\(member): '\(text)' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        }
        return String(parts[5])
    }

    /// The alarm a CloudWatch alarm ARN or a bare name names.
    public func alarm(fromARN text: String) -> String {
        guard text.hasPrefix("arn:"), let range = text.range(of: ":alarm:") else { return text }
        return String(text[range.upperBound...])
    }
}
