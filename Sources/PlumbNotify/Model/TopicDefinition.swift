import Foundation

/// A topic as declared in an alert file or through the API.
public struct TopicDefinition: Sendable, Equatable, Codable {
    public var name: String
    /// Applies to every subscription of the topic that has no policy of its own.
    public var deliveryPolicy: DeliveryPolicy?
    public var subscriptions: [SubscriptionDefinition]

    public init(name: String, deliveryPolicy: DeliveryPolicy? = nil, subscriptions: [SubscriptionDefinition] = []) {
        self.name = name
        self.deliveryPolicy = deliveryPolicy
        self.subscriptions = subscriptions
    }

    /// SNS topic names: 1–256 characters of letters, digits, `-` and `_`.
    public static func validateName(_ name: String) -> String? {
        guard !name.isEmpty, name.count <= 256 else { return "a topic name has 1 to 256 characters" }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return "a topic name may hold only letters, digits, '-' and '_'"
        }
        return nil
    }
}

/// Where a topic delivers: an email address (or several, comma-separated) or a webhook URL.
public struct SubscriptionDefinition: Sendable, Equatable, Codable {
    public var `protocol`: SubscriptionProtocol
    public var endpoint: String
    /// Name of the environment variable holding the webhook's HMAC secret (files).
    public var secretEnv: String?
    /// The secret itself (subscriptions created through the API).
    public var secret: String?
    public var format: WebhookFormat
    public var deliveryPolicy: DeliveryPolicy?

    public init(
        protocol: SubscriptionProtocol, endpoint: String, secretEnv: String? = nil, secret: String? = nil,
        format: WebhookFormat = .plumb, deliveryPolicy: DeliveryPolicy? = nil
    ) {
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.secretEnv = secretEnv
        self.secret = secret
        self.format = format
        self.deliveryPolicy = deliveryPolicy
    }

    /// Checks the endpoint against the protocol; the error text, or nil.
    public func validate() -> String? { problem()?.message }

    /// The first problem and the field it is about (`endpoint`, `secret`, `delivery_policy`), or nil. Every address
    /// of an email endpoint must pass `EmailAddress` (RFC 5321): this is the edge where a CR/LF would otherwise
    /// enter an SMTP command.
    public func problem() -> (field: String, message: String)? {
        switch self.protocol {
        case .email:
            if let control = endpoint.unicodeScalars.first(where: EmailAddress.isControl) {
                return ("endpoint", "holds the control character \(EmailAddress.describe(control)) (a line break or NUL could inject SMTP commands)")
            }
            let addresses = EmailAddress.split(endpoint)
            guard !addresses.isEmpty else { return ("endpoint", "an email endpoint needs at least one address") }
            guard addresses.count <= 50 else { return ("endpoint", "an email endpoint has at most 50 addresses") }
            for address in addresses {
                if let problem = EmailAddress.problem(address) { return ("endpoint", "'\(address)' is not an email address: it \(problem)") }
            }
            if secretEnv != nil || secret != nil { return ("secret", "a secret applies to webhooks only") }
        case .function:
            let parts = endpoint.split(separator: ".")
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                return ("endpoint", "a function endpoint is a function name like plugin.function")
            }
            if secretEnv != nil || secret != nil { return ("secret", "a secret applies to webhooks only") }
        case .webhook:
            guard let scheme = endpoint.split(separator: ":", maxSplits: 1).first?.lowercased(),
                scheme == "http" || scheme == "https", endpoint.contains("://"),
                endpoint.split(separator: "/", omittingEmptySubsequences: true).count >= 2
            else { return ("endpoint", "a webhook endpoint is an http:// or https:// URL") }
            guard !endpoint.unicodeScalars.contains(where: { EmailAddress.isControl($0) || $0 == " " }) else {
                return ("endpoint", "a webhook endpoint holds a space or control character")
            }
        }
        return deliveryPolicy?.validate().map { ("delivery_policy", $0) }
    }
}

public enum SubscriptionProtocol: String, Sendable, Codable, CaseIterable {
    case email
    case webhook
    /// A hosted function (`plugin.function`), invoked asynchronously with the notification (SNS → Lambda).
    case function
}

/// The JSON a webhook receives.
public enum WebhookFormat: String, Sendable, Codable, CaseIterable {
    /// `{"type": "Notification", "messageId", "topic", "subject", "message", "timestamp", "attributes"}`.
    case plumb
    /// Alertmanager's version-4 webhook payload, so existing Alertmanager receivers work.
    case alertmanager
}
