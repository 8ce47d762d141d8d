import Logging
import PlumbAlarms
import PlumbHost
import PlumbIAM
import PlumbLogs
import PlumbMetrics
import PlumbNotify
import PlumbPostgres
import PlumbStore
import Synchronization

/// The composition of the shared stores: PostgreSQL (the cluster's pool, checked at start) and the log store it
/// selects.
extension PlumbServer {
    /// The shared PostgreSQL when a store is configured there, its pool started and checked at once: an unreachable
    /// server, refused credentials or a schema from a newer Plumb stop the start with their reason.
    static func openPostgres(config: ServerConfig, logger: Logger) async throws -> PostgresStore? {
        guard let settings = config.storage.postgres else {
            if config.storage.logs == .postgres {
                throw ConfigError("storage.logs is postgres: storage.postgres.url is required")
            }
            if config.storage.state == .postgres {
                throw ConfigError("storage.state is postgres: storage.postgres.url is required")
            }
            return nil
        }
        let postgres = try PostgresStore(settings: settings, logger: Logger(label: "plumb.postgres"))
        do {
            try await postgres.probe()
        } catch let error as PostgresUnavailable {
            throw ConfigError("storage.postgres: cannot use PostgreSQL at \(error.message)")
        }
        postgres.start()
        if config.storage.logs == .postgres {
            logger.info("logs are kept in PostgreSQL", metadata: ["postgres": "\(settings.description)"])
        }
        if config.storage.state == .postgres {
            logger.info(
                "alarms, silences, topics, the outbox, async events and IAM are kept in PostgreSQL",
                metadata: ["postgres": "\(settings.description)"])
        } else {
            logger.warning(
                "alarms, the outbox and IAM stay in this node's own SQLite: other nodes neither see the alarms, users or tokens made here nor take over alarm states; set storage.state: postgres"
            )
        }
        logger.info(
            "this node joins the cluster of the nodes sharing PostgreSQL",
            metadata: ["postgres": "\(settings.description)", "node": "\(config.nodeName)"])
        if config.storage.metrics == .sqlite {
            logger.warning(
                "metrics stay in this node's own SQLite while alarms are evaluated by the cluster's leader alone: the leader sees only the samples written to it; with several nodes, set storage.metrics: victoriametrics"
            )
        }
        return postgres
    }

    /// The log store `storage.logs` names: the embedded one in the data directory, or PostgreSQL's (its schema
    /// migrated first). `samples` receives the metric filters' samples.
    static func openLogStore(
        config: ServerConfig, postgres: PostgresStore?, samples: any MetricSampleSink, logger: Logger
    ) async throws -> any LogStoring {
        guard let postgres, config.storage.logs == .postgres else {
            return try LogStore(directory: config.dataDirectory, durability: config.durability, samples: samples)
        }
        return try await migrated("log", on: postgres) {
            try await PostgresLogStore.open(database: postgres, samples: samples)
        }
    }
}

extension PlumbServer {
    /// The alarm store `storage.state` names: `alarms.sqlite` in the data directory, or PostgreSQL's (its schema
    /// migrated first).
    static func openAlarmStore(
        config: ServerConfig, postgres: PostgresStore?, logger: Logger
    ) async throws -> any AlarmStoring {
        guard let postgres, config.storage.state == .postgres else {
            return try AlarmStore(directory: config.dataDirectory, durability: config.durability)
        }
        return try await migrated("alarm", on: postgres) {
            try await PostgresAlarmStore.open(database: postgres)
        }
    }
}

extension PlumbServer {
    /// The notification store `storage.state` names: `notify.sqlite` in the data directory, or PostgreSQL's (its
    /// schema migrated first), where every node delivers and each delivery goes out from one.
    static func openOutbox(
        config: ServerConfig, postgres: PostgresStore?, secrets: SecretBox
    ) async throws -> any NotificationStoring {
        guard let postgres, config.storage.state == .postgres else {
            return try Outbox(directory: config.dataDirectory, durability: config.durability, secrets: secrets)
        }
        if config.secretsKeyEnv == nil {
            Logger(label: "plumb.server").warning(
                "storage.state is postgres but secrets_key_env is not set: a webhook or TOTP secret sealed by this node's own key cannot be opened by the other nodes; give every node the same key through secrets_key_env"
            )
        }
        return try await migrated("notification", on: postgres) {
            // A claim outlasts the slowest attempt: a webhook has 15 s, a mail up to six SMTP exchanges of
            // `smtp.timeout` each (connect, greeting, STARTTLS, envelope, data, end).
            let mailAttempt = (config.smtp?.timeout ?? 0) * 6 + 30
            return try await PostgresOutbox.open(
                database: postgres, secrets: secrets, node: config.nodeName, claimDuration: mailAttempt)
        }
    }
}

extension PlumbServer {
    /// The async invocation queue (with the schedules' last runs) `storage.state` names: `events.sqlite` in the data
    /// directory, or PostgreSQL's, where any node runs a due event once.
    static func openAsyncQueue(config: ServerConfig, postgres: PostgresStore?) async throws -> any AsyncEventStoring {
        guard let postgres, config.storage.state == .postgres else {
            return try AsyncEventQueue(directory: config.dataDirectory, durability: config.durability)
        }
        return try await migrated("async events", on: postgres) {
            try await PostgresAsyncEventQueue.open(database: postgres, node: config.nodeName)
        }
    }
}

extension PlumbServer {
    /// The IAM store `storage.state` names: `iam.sqlite` in the data directory, or PostgreSQL's (its schema migrated
    /// first), where a user, policy or token made on any node holds on every node.
    static func openIAMStore(
        config: ServerConfig, postgres: PostgresStore?, secrets: SecretBox
    ) async throws -> any IAMStoring {
        guard let postgres, config.storage.state == .postgres else {
            return try IAMStore(directory: config.dataDirectory, durability: config.durability, secrets: secrets)
        }
        return try await migrated("IAM", on: postgres) { try await PostgresIAMStore.open(database: postgres) }
    }
}

extension PlumbServer {
    /// A store `open` sets up on `postgres` (its schema migrated first); a schema from a newer Plumb, or one that
    /// cannot be set up, stops the start with its reason (and the pool).
    static func migrated<Store>(
        _ area: String, on postgres: PostgresStore, _ open: () async throws -> Store
    ) async throws -> Store {
        do {
            return try await open()
        } catch let error as PostgresSchemaError {
            postgres.stop()
            throw ConfigError("storage.postgres: \(error.description)")
        } catch {
            postgres.stop()
            throw ConfigError(
                "storage.postgres: the \(area) schema could not be set up: \(describePostgresError(error))")
        }
    }
}

/// A flag that is set once (the server is ready), readable from anywhere.
final class ReadyFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
