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
    public func validate() -> String? {
        switch self.protocol {
        case .email:
            let addresses = EmailAddress.split(endpoint)
            guard !addresses.isEmpty else { return "an email endpoint needs at least one address" }
            for address in addresses where !EmailAddress.isValid(address) {
                return "'\(address)' is not an email address"
            }
            if secretEnv != nil || secret != nil { return "a secret applies to webhooks only" }
        case .function:
            let parts = endpoint.split(separator: ".")
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                return "a function endpoint is a function name like plugin.function"
            }
            if secretEnv != nil || secret != nil { return "a secret applies to webhooks only" }
        case .webhook:
            guard let scheme = endpoint.split(separator: ":", maxSplits: 1).first?.lowercased(),
                scheme == "http" || scheme == "https", endpoint.contains("://"),
                endpoint.split(separator: "/", omittingEmptySubsequences: true).count >= 2
            else { return "a webhook endpoint is an http:// or https:// URL" }
        }
        return deliveryPolicy?.validate()
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

/// Addresses in an email endpoint.
public enum EmailAddress {
    public static func split(_ endpoint: String) -> [String] {
        endpoint.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The bare address of `Name <addr>` or `addr`.
    public static func bare(_ text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            return String(text[text.index(after: open)..<close])
        }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// `local@domain` with no spaces, angle brackets or line breaks (header injection).
    public static func isValid(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.count <= 254 else { return false }
        let clean = !address.contains(where: { $0.isWhitespace || $0.isNewline || "<>()[],;:\"\\".contains($0) })
        return clean && (parts[1].contains(".") || parts[1] == "localhost")
    }
}
