/// The JSON a webhook receives.
public enum WebhookFormat: String, Sendable, Codable, CaseIterable {
    /// `{"type": "Notification", "messageId", "topic", "subject", "message", "timestamp", "attributes"}`.
    case plumb
    /// The body Alertmanager itself sends to its webhook receivers (version 4), so a receiver written for
    /// Alertmanager works unchanged. It is not what Alertmanager's own API accepts: for that, `protocol: alertmanager`.
    case alertmanagerWebhook = "alertmanager-webhook"
    /// SNS's own HTTP message, signed as SNS signs (`SNSMessages`): what a subscription made through the SNS API
    /// gets, so an SNS receiver works unchanged.
    case sns

    /// The format called `name`, accepting the deprecated name `alertmanager` for `alertmanager-webhook` (what the
    /// webhook body was first called: existing alert files and subscriptions stored in `notify.sqlite` have it).
    public init?(named name: String) {
        if name == Self.deprecatedAlertmanagerName {
            self = .alertmanagerWebhook
        } else {
            self.init(rawValue: name)
        }
    }

    /// The old name of `alertmanager-webhook`, still read.
    public static let deprecatedAlertmanagerName = "alertmanager"

    /// What `format` accepts, for error messages.
    public static let accepted = "plumb, alertmanager-webhook or sns"
}
