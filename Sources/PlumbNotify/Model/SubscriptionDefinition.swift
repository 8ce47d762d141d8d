import Foundation

/// Where a topic delivers: an email address (or several, comma-separated), a webhook URL, a hosted function or an
/// Alertmanager.
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
                return (
                    "endpoint",
                    "holds the control character \(EmailAddress.describe(control)) (a line break or NUL could inject SMTP commands)"
                )
            }
            let addresses = EmailAddress.split(endpoint)
            guard !addresses.isEmpty else { return ("endpoint", "an email endpoint needs at least one address") }
            guard addresses.count <= 50 else { return ("endpoint", "an email endpoint has at most 50 addresses") }
            for address in addresses {
                if let problem = EmailAddress.problem(address) {
                    return ("endpoint", "'\(address)' is not an email address: it \(problem)")
                }
            }
            if secretEnv != nil || secret != nil { return ("secret", "a secret applies to webhooks only") }
        case .function:
            // A plugin's function (`plugin.function`) or a Lambda handler's (`name`, Lambda's own names).
            let parts = endpoint.split(separator: ".", omittingEmptySubsequences: false)
            let valid =
                (parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty)
                || (parts.count == 1 && !endpoint.isEmpty && endpoint.utf8.count <= 64
                    && endpoint.unicodeScalars.allSatisfy {
                        $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")
                    })
            guard valid else {
                return (
                    "endpoint", "a function endpoint is a function name: plugin.function, or a Lambda handler's name"
                )
            }
            if secretEnv != nil || secret != nil { return ("secret", "a secret applies to webhooks only") }
        case .webhook:
            if let problem = Self.urlProblem(endpoint, "a webhook endpoint") { return ("endpoint", problem) }
            if format == .sns, secretEnv != nil || secret != nil {
                return ("secret", "format sns is signed with Plumb's SNS key (SigningCertURL), not a shared secret")
            }
            if format == .alertmanagerWebhook, AlertmanagerEndpoint.isAlertsAPI(endpoint) {
                return (
                    "endpoint",
                    "'\(endpoint)' is Alertmanager's own API, which takes a JSON array of alerts and refuses the webhook body of format alertmanager-webhook; to send alarms to an Alertmanager, use protocol: alertmanager with its base URL (http://HOST:9093)"
                )
            }
        case .alertmanager:
            if let problem = Self.urlProblem(endpoint, "an alertmanager endpoint") { return ("endpoint", problem) }
            if let problem = AlertmanagerEndpoint.problem(endpoint) { return ("endpoint", problem) }
            if secretEnv != nil || secret != nil {
                return ("secret", "a secret applies to webhooks only (Alertmanager's API takes no signature)")
            }
        }
        return deliveryPolicy?.validate().map { ("delivery_policy", $0) }
    }

    /// Why `endpoint` is not an http(s) URL Plumb will post to, or nil.
    static func urlProblem(_ endpoint: String, _ what: String) -> String? {
        guard let scheme = endpoint.split(separator: ":", maxSplits: 1).first?.lowercased(),
            scheme == "http" || scheme == "https", endpoint.contains("://"),
            endpoint.split(separator: "/", omittingEmptySubsequences: true).count >= 2
        else { return "\(what) is an http:// or https:// URL" }
        guard !endpoint.unicodeScalars.contains(where: { EmailAddress.isControl($0) || $0 == " " }) else {
            return "\(what) holds a space or control character"
        }
        return nil
    }
}
