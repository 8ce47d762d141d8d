import Foundation
import Logging
import NIOSSL
import PlumbAPI
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The shared PostgreSQL database of a Plumb cluster: a connection pool and each area's versioned schema.
///
/// Every statement goes through `run`, which gives it `settings.timeout` to answer: a PostgreSQL that is down or
/// unreachable is a `PostgresUnavailable` (503 with `Retry-After`) after that time, never a request that hangs. The
/// pool (`PostgresClient`) runs from `start()` (the stores open before the service group runs) until `stop()`; as a
/// service, `run()` keeps it until the graceful shutdown, so, first in the group, it closes after every other part.
public final class PostgresStore: Service, Sendable {
    public let settings: PostgresSettings
    public let client: PostgresClient
    let logger: Logger
    private let runner = Mutex<Task<Void, Never>?>(nil)

    public init(
        settings: PostgresSettings, maximumConnections: Int = 20, logger: Logger = Logger(label: "plumb.postgres")
    )
        throws
    {
        self.settings = settings
        self.logger = logger
        let tls: PostgresClient.Configuration.TLS
        switch settings.sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: tls)
        configuration.options.connectTimeout = settings.timeout
        configuration.options.additionalStartupParameters = settings.sessionParameters
        configuration.options.maximumConnections = maximumConnections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Starts the connection pool (once).
    public func start() {
        runner.withLock { task in
            guard task == nil else { return }
            task = Task { await self.client.run() }
        }
    }

    /// Closes the pool: statements under way fail, new ones wait for their deadline.
    public func stop() {
        runner.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Keeps the pool running until the graceful shutdown (or cancellation), then closes it.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }

    /// Connects once, outside the pool, and asks `SELECT 1`: at start, so that a PostgreSQL that cannot be reached
    /// or refuses the credentials stops the start with PostgreSQL's own reason ("password authentication failed for
    /// user …", "connection refused"), where the pool would only say it did not answer in time.
    public func probe() async throws {
        let settings = self.settings
        let logger = self.logger
        do {
            let late = { @Sendable in
                PostgresUnavailable("no answer from \(settings.description) within \(settings.timeout)")
            }
            try await withDeadline(settings.timeout, late: late) {
                let connection = try await PostgresConnection.connect(
                    configuration: try settings.configuration(), id: 0, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.query("SELECT 1", logger: logger)
            }
        } catch let error as PostgresUnavailable {
            throw error
        } catch {
            throw PostgresUnavailable("\(settings.description): \(describePostgresError(error))")
        }
    }

    /// `body` with a connection of the pool, within `settings.timeout` (see the type's description).
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let timeout = settings.timeout
        let target = settings.description
        do {
            let late = { @Sendable in PostgresUnavailable("PostgreSQL (\(target)) did not answer within \(timeout)") }
            return try await withDeadline(timeout, late: late) {
                try await self.client.withConnection { try await body($0) }
            }
        } catch let error as PSQLError {
            throw Self.classify(error, target: target)
        }
    }

    /// `body` inside a transaction (committed when it returns, rolled back when it throws), within the timeout.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    )
        async throws -> T
    {
        let logger = self.logger
        let target = settings.description
        return try await run { connection in
            do {
                return try await connection.withTransaction(logger: logger) { try await body($0) }
            } catch let error as PostgresTransactionError {
                // The body's own error (a 404, a refused sink, a newer schema) as it was thrown; a failed BEGIN or
                // COMMIT as what it is (unavailable: 503).
                if let thrown = error.closureError { throw thrown }
                let failure = error.beginError ?? error.commitError ?? error.rollbackError ?? error
                if let failure = failure as? PSQLError { throw Self.classify(failure, target: target) }
                throw failure
            }
        }
    }

    /// A failure of PostgreSQL itself (unreachable, refused, shutting down) is a 503 the client may retry; a
    /// statement PostgreSQL refused is the caller's problem to name and stays as it is.
    static func classify(_ error: PSQLError, target: String) -> any Error {
        if let state = error.serverInfo?[.sqlState] {
            // Class 08: connection exception; 57P: operator intervention (shutdown); 53: insufficient resources;
            // 57014 / 55P03 / 25P03: our own statement, lock and idle-transaction timeouts; 40: serialization
            // failure or deadlock. All are worth a retry.
            let retryable = ["57014", "55P03", "25P03"].contains(state) || state.hasPrefix("40")
            if retryable || state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") {
                return PostgresUnavailable("PostgreSQL (\(target)): \(describePostgresError(error))")
            }
            // 22021 / 22P05: a text value PostgreSQL cannot hold (a NUL character, bytes that are not UTF-8), which
            // SQLite takes: the caller's input, refused as such.
            if state == "22021" || state == "22P05" {
                return PlumbError(
                    status: 400, code: "InvalidParameterValue",
                    "a value holds a character that cannot be stored (NUL, or bytes that are not UTF-8)")
            }
            return error
        }
        return PostgresUnavailable("PostgreSQL (\(target)): \(describePostgresError(error))")
    }

    /// Brings `area`'s schema to the newest of `migrations` (versions 1, 2, … in order), each applied once, in one
    /// transaction under an advisory lock so that nodes starting together do not race. A database whose schema is
    /// newer than this release knows is refused with a message that says so: an older Plumb must not write into it.
    public func migrate(area: String, _ migrations: [PostgresMigration]) async throws {
        precondition(migrations.map(\.version) == Array(1...migrations.count), "migrations are numbered from 1")
        let known = migrations.count
        let applied = try await transaction { connection -> [Int] in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(PostgresMigration.lockKey))", logger: self.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS plumb_schema (area text PRIMARY KEY, version integer NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT now())
                """, logger: self.logger)
            var current = 0
            for try await version in try await connection.query(
                "SELECT version FROM plumb_schema WHERE area = \(area)", logger: self.logger
            ).decode(Int.self) {
                current = version
            }
            guard current <= known else {
                throw PostgresSchemaError(
                    "the \(area) schema in PostgreSQL is at version \(current), newer than this Plumb knows (\(known)): a newer Plumb wrote it; run that release or newer"
                )
            }
            var applied: [Int] = []
            for migration in migrations where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                applied.append(migration.version)
            }
            if !applied.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO plumb_schema (area, version) VALUES (\(area), \(known))
                    ON CONFLICT (area) DO UPDATE SET version = excluded.version, updated_at = now()
                    """, logger: self.logger)
            }
            return applied
        }
        if !applied.isEmpty {
            logger.info(
                "PostgreSQL schema migrated",
                metadata: ["area": "\(area)", "versions": "\(applied.map(String.init).joined(separator: ","))"])
        }
    }

    /// The version each area's schema is at.
    public func schemaVersions() async throws -> [String: Int] {
        try await run { connection in
            var versions: [String: Int] = [:]
            let exists = try await connection.query(
                "SELECT to_regclass('plumb_schema') IS NOT NULL", logger: self.logger)
            for try await present in exists.decode(Bool.self) where !present { return [:] }
            for try await (area, version) in try await connection.query(
                "SELECT area, version FROM plumb_schema", logger: self.logger
            ).decode((String, Int).self) {
                versions[area] = version
            }
            return versions
        }
    }
}

/// One version of an area's schema: statements run in order, in the migration's transaction.
public struct PostgresMigration: Sendable {
    public let version: Int
    public let statements: [String]

    public init(_ version: Int, _ statements: [String]) {
        self.version = version
        self.statements = statements
    }

    /// The transaction-level advisory lock migrations take ("PLMG").
    static let lockKey: Int64 = 0x504C_4D47
}

/// PostgreSQL cannot be reached or did not answer in time: 503, retry after a second.
public struct PostgresUnavailable: HTTPResponseError, CustomStringConvertible {
    public let message: String
    public var status: Int { 503 }
    public var code: String { "ServiceUnavailable" }
    public var headers: [(name: String, value: String)] { [("Retry-After", "1")] }
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}

/// The database holds a schema this release cannot use.
public struct PostgresSchemaError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
