import Foundation
import NIOSSL
import PostgresNIO

/// Where PostgreSQL is, from a URL as libpq reads one (but `prefer` and `require` verify the server's certificate
/// against the system's trusted authorities, as libpq's `verify-full` does): `postgres://user:password@host:port/database?sslmode=…`
/// (`sslmode`: `disable`, `prefer` (the default) or `require`). The password may instead come from an environment
/// variable (`storage.postgres.password_env`), so it is never in the config file.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// How long connecting (and each lease check) may take.
    public var timeout: Duration = .seconds(10)

    public enum SSLMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    /// Parses `url`; every problem is an error that says what is wrong (never the password).
    public init(url: String, password overriding: String? = nil) throws {
        guard let components = URLComponents(string: url),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw PostgresSettingsError("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresSettingsError("the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresSettingsError("the URL names no user") }
        self.host = host
        port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw PostgresSettingsError("port \(port) is out of range") }
        username = user.removingPercentEncoding ?? user
        password = overriding ?? components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : (path.removingPercentEncoding ?? path)
        sslMode = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw PostgresSettingsError("sslmode must be disable, prefer or require")
                }
                sslMode = mode
            case "connect_timeout":
                guard let seconds = item.value.flatMap(Int.init), (1...600).contains(seconds) else {
                    throw PostgresSettingsError("connect_timeout must be from 1 to 600 seconds")
                }
                timeout = .seconds(seconds)
            default:
                throw PostgresSettingsError("unknown URL parameter '\(item.name)' (known: sslmode, connect_timeout)")
            }
        }
    }

    /// `host:port/database` as user: for messages (never the password).
    public var description: String { "\(username)@\(host):\(port)/\(database)" }

    /// What `dump` and `String(reflecting:)` show: the description, never the password.
    public var customMirror: Mirror { Mirror(self, children: ["postgres": description]) }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        let (seconds, attoseconds) = timeout.components
        configuration.options.connectTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        configuration.options.additionalStartupParameters = sessionParameters
        return configuration
    }

    /// Settings of every session Plumb opens, so that PostgreSQL itself gives up where Plumb does: a statement or a
    /// lock wait is cancelled by the server a little before Plumb's own deadline (so a write answered 503 was rolled
    /// back, not committed later), a transaction left idle by a frozen node is ended (freeing the lock every log
    /// append takes), and TCP keepalives find a node that vanished in about 25 s (its session, locks and leader lease
    /// go with it) instead of the kernel's two hours.
    var sessionParameters: [(String, String)] {
        // `timeout` is checked to 0.1–600 s where it is read, so this is a small whole number.
        let millis = max(100, Int((timeout / .milliseconds(1)).rounded()))
        return [
            ("statement_timeout", "\(millis * 9 / 10)"),
            ("lock_timeout", "\(millis * 9 / 10)"),
            ("idle_in_transaction_session_timeout", "\(millis * 2)"),
            ("tcp_keepalives_idle", "10"),
            ("tcp_keepalives_interval", "5"),
            ("tcp_keepalives_count", "3"),
        ]
    }
}

/// A PostgreSQL URL or setting that cannot work.
public struct PostgresSettingsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
