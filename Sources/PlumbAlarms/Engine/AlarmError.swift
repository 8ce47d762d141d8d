import PlumbAPI

/// The alarms' errors: a refused definition, state change or silence, or an alarm that does not exist.
public enum AlarmErrorDomain: ErrorDomain {}

public typealias AlarmError = DomainError<AlarmErrorDomain>

extension DomainError where Domain == AlarmErrorDomain {
    static func notFound(_ name: String) -> AlarmError {
        AlarmError(status: 404, code: "ResourceNotFound", "no alarm named '\(name)'")
    }
}
