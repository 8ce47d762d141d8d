import Crypto
import Foundation
import PlumbAPI
import PlumbStore
import SwiftASN1
import X509
import _CryptoExtras

/// SNS's own HTTP message format (format `sns`, what a subscription made through the SNS API gets): the JSON SNS
/// posts (`Type`, `MessageId`, `TopicArn`, `Message`, `Timestamp`, `SignatureVersion`, `Signature`,
/// `SigningCertURL`, and `SubscribeURL`/`Token` to confirm), its `x-amz-sns-*` headers, and its signature — RSA over
/// the message's fields in SNS's order, SHA-256 (`SignatureVersion` 2) — with a certificate Plumb serves at
/// `SigningCertURL`, so a receiver written for SNS verifies Plumb's messages unchanged.
public struct SNSMessages: Sendable {
    public static let keyFileName = "sns-signing.key"
    static let sealContext = "notify.sns.signing-key"

    let key: _RSA.Signing.PrivateKey
    /// The signing certificate (self-signed, over the key's public half), PEM.
    public let certificatePEM: String
    /// Where the certificate is on Plumb's listener: `/sns/SimpleNotificationService-<key fingerprint>.pem`.
    public let certificatePath: String
    let publicURL: String
    /// `arn:aws:sns:REGION:ACCOUNT:`; a topic's ARN is this and its name.
    public let arnPrefix: String

    public init(key: _RSA.Signing.PrivateKey, publicURL: String, region: String, account: String, now: Date) throws {
        self.key = key
        self.publicURL = publicURL
        arnPrefix = "arn:aws:sns:\(region):\(account):"
        let fingerprint = SHA256.hash(data: key.publicKey.derRepresentation).prefix(16)
            .map { String(format: "%02x", $0) }.joined()
        certificatePath = "/sns/SimpleNotificationService-\(fingerprint).pem"
        let signer = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            OrganizationName("Plumb")
            CommonName("Plumb SNS message signing")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: signer.publicKey,
            notValidBefore: now.addingTimeInterval(-86_400), notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            }, issuerPrivateKey: signer)
        certificatePEM = try certificate.serializeAsPEM().pemString
    }

    /// The server's signer: the RSA key from `<dataDirectory>/sns-signing.key` (sealed under the secrets key, mode
    /// 0600), made on first start (the first writer wins when two processes start at once).
    public static func load(
        dataDirectory: String, secrets: SecretBox, publicURL: String, region: String, account: String
    ) throws -> SNSMessages {
        let path = dataDirectory + "/" + keyFileName
        let sealed = try KeyFile.readOrCreate(path) {
            let fresh = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return Array(try secrets.seal(fresh.pemRepresentation, context: sealContext).utf8)
        }
        let pem = try secrets.openText(
            String(decoding: sealed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
            context: sealContext)
        return try SNSMessages(
            key: try _RSA.Signing.PrivateKey(pemRepresentation: pem), publicURL: publicURL, region: region,
            account: account, now: Date())
    }

    public func topicARN(_ topic: String) -> String { arnPrefix + topic }

    /// A subscription's ARN: its topic's ARN and its id, as SNS names subscriptions.
    public func subscriptionARN(_ subscription: Outbox.Subscription) -> String {
        topicARN(subscription.topic) + ":" + subscription.id
    }

    /// The body and headers SNS would post for `message` to `subscription`.
    public func render(
        _ message: Outbox.Message, subscription: Outbox.Subscription
    ) throws -> (
        body: Data, headers: [(String, String)]
    ) {
        let topicARN = topicARN(message.topic)
        var fields: [String: String] = [
            "Type": message.type, "MessageId": message.id, "TopicArn": topicARN,
            "Timestamp": Self.timestamp(message.createdAt), "SignatureVersion": "2",
            "SigningCertURL": publicURL + certificatePath,
        ]
        let signed: [String]
        if message.type == "SubscriptionConfirmation" {
            fields["Message"] =
                "You have chosen to subscribe to the topic \(topicARN).\nTo confirm the subscription, visit the SubscribeURL included in this message."
            fields["Token"] = message.attributes["token"] ?? ""
            fields["SubscribeURL"] = message.attributes["subscribeURL"] ?? ""
            signed = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        } else {
            fields["Message"] = message.message
            if let subject = message.subject { fields["Subject"] = subject }
            signed = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        }
        fields["Signature"] = try signature(of: Self.stringToSign(fields, keys: signed))
        var object: [String: Any] = fields
        if message.type == "Notification", !message.attributes.isEmpty {
            object["MessageAttributes"] = message.attributes.mapValues { ["Type": "String", "Value": $0] }
        }
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers: [(String, String)] = [
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("User-Agent", "Amazon Simple Notification Service Agent"),
            ("x-amz-sns-message-type", message.type), ("x-amz-sns-message-id", message.id),
            ("x-amz-sns-topic-arn", topicARN),
        ]
        if message.type == "Notification" {
            headers.append(("x-amz-sns-subscription-arn", subscriptionARN(subscription)))
        }
        return (body, headers)
    }

    /// SNS's event for a Lambda function subscribed to the topic: one record with the notification as SNS signs it
    /// (the event's names: `SigningCertUrl`, `UnsubscribeUrl`, attributes as `{"Type", "Value"}`).
    public func lambdaEvent(_ message: Outbox.Message, subscription: Outbox.Subscription) throws -> Data {
        let topicARN = topicARN(message.topic)
        var fields: [String: String] = [
            "Type": message.type, "MessageId": message.id, "TopicArn": topicARN, "Message": message.message,
            "Timestamp": Self.timestamp(message.createdAt),
        ]
        if let subject = message.subject { fields["Subject"] = subject }
        let signature = try signature(
            of: Self.stringToSign(fields, keys: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]))
        var sns: [String: JSONValue] = fields.mapValues { .string($0) }
        sns["Subject"] = message.subject.map { .string($0) } ?? .null
        sns["SignatureVersion"] = .string("2")
        sns["Signature"] = .string(signature)
        sns["SigningCertUrl"] = .string(publicURL + certificatePath)
        sns["UnsubscribeUrl"] = .string("")
        sns["MessageAttributes"] = .object(
            message.attributes.mapValues { .object(["Type": .string("String"), "Value": .string($0)]) })
        let record: JSONValue = .object([
            "EventSource": .string("aws:sns"), "EventVersion": .string("1.0"),
            "EventSubscriptionArn": .string(subscriptionARN(subscription)), "Sns": .object(sns),
        ])
        return try JSONEncoder().encode(JSONValue.object(["Records": .array([record])]))
    }

    /// SNS's string to sign: each of `keys` the message has, as `Key\nValue\n`, in that (alphabetical) order.
    public static func stringToSign(_ fields: [String: String], keys: [String]) -> String {
        keys.compactMap { key in fields[key].map { "\(key)\n\($0)\n" } }.joined()
    }

    func signature(of text: String) throws -> String {
        let digest = SHA256.hash(data: Data(text.utf8))
        return try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
    }

    /// `2026-12-07T12:00:00.000Z`, as SNS writes times.
    static func timestamp(_ seconds: Int64) -> String {
        Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
