import PlumbAPI

/// The logs' errors: a refused group, stream, event, filter pattern or metric filter.
public enum LogsErrorDomain: ErrorDomain {}

public typealias LogsError = DomainError<LogsErrorDomain>
