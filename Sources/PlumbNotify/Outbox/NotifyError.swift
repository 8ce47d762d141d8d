import PlumbAPI

/// The errors of topics, subscriptions and deliveries.
public enum NotifyErrorDomain: ErrorDomain {}

public typealias NotifyError = DomainError<NotifyErrorDomain>

extension DomainError where Domain == NotifyErrorDomain {
    package static func topicNotFound(_ name: String) -> NotifyError {
        NotifyError(status: 404, code: "NotFound", "no topic named '\(name)'")
    }
}
