import Foundation
import NIOSSL
import PostgresNIO

/// Where PostgreSQL is, from a URL as libpq reads one: `postgres://user:password@host:port/database?sslmode=…`
/// (`sslmode`: `disable`, `prefer` (the default) or `require`). The password may instead come from an environment
/// variable (`storage.postgres.password_env`), so it is never in the config file.
public struct PostgresSettings: Sendable, Equatable {
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
        return configuration
    }
}

/// A PostgreSQL URL or setting that cannot work.
public struct PostgresSettingsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
