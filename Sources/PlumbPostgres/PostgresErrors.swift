import PostgresNIO

/// What went wrong talking to PostgreSQL, in words an operator can act on: the server's own message
/// ("password authentication failed for user …", "database … does not exist") or the connection's failure.
/// postgres-nio's `PSQLError` describes itself generically so as never to leak a query's data; the server's message
/// and the error code carry no bound values.
public func describePostgresError(_ error: any Error) -> String {
    guard let error = error as? PSQLError else { return "\(error)" }
    if let message = error.serverInfo?[.message] {
        let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
        return message + code
    }
    if let underlying = error.underlying { return "\(error.code): \(underlying)" }
    return "\(error.code)"
}
