import Foundation
import PlumbPostgres
import PlumbVictoriaMetrics

extension ServerConfig {
    /// The `storage:` section: which engine keeps the metrics and the logs. SQLite in the data directory is the
    /// default and needs nothing; `victoriametrics` moves the metrics to a VictoriaMetrics single node or cluster and
    /// `logs: postgres` the logs (and the audit trail) and `state: postgres` the platform's state (alarms, silences,
    /// topics, subscriptions, the notification outbox, async events and schedules' last runs) to PostgreSQL, all
    /// shareable by several Plumb nodes.
    public struct StorageSettings: Sendable, Decodable, Equatable {
        public enum MetricsBackend: String, Sendable, Decodable, Equatable {
            case sqlite
            case victoriaMetrics = "victoriametrics"
        }

        public enum LogsBackend: String, Sendable, Decodable, Equatable {
            case sqlite
            case postgres
        }

        public var metrics: MetricsBackend = .sqlite
        /// Where VictoriaMetrics is (required when `metrics` is `victoriametrics`).
        public var victoriaMetrics: VictoriaMetricsSettings?
        public var logs: LogsBackend = .sqlite
        /// Where alarms, silences, topics, subscriptions and the outbox are kept (the same choices as `logs`).
        public var state: LogsBackend = .sqlite
        /// Where PostgreSQL is (required when `logs` or `state` is `postgres`).
        public var postgres: PostgresSettings?

        enum CodingKeys: String, CodingKey {
            case metrics, logs, state, postgres
            case victoriaMetrics = "victoriametrics"
        }

        enum PostgresKeys: String, CodingKey {
            case url, timeout
            case passwordEnv = "password_env"
        }

        enum VictoriaMetricsKeys: String, CodingKey {
            case url, timeout
            case insertURL = "insert_url"
            case selectURL = "select_url"
            case flushURLs = "flush_urls"
            case maxReadSamples = "max_read_samples"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let name = try c.decodeIfPresent(String.self, forKey: .metrics) {
                guard let backend = MetricsBackend(rawValue: name) else {
                    throw ConfigError("storage.metrics must be sqlite or victoriametrics, not '\(name)'")
                }
                metrics = backend
            }
            if c.contains(.victoriaMetrics), try !c.decodeNil(forKey: .victoriaMetrics) {
                let v = try c.nestedContainer(keyedBy: VictoriaMetricsKeys.self, forKey: .victoriaMetrics)
                let url = try v.decodeIfPresent(String.self, forKey: .url)
                let insert = try v.decodeIfPresent(String.self, forKey: .insertURL)
                let select = try v.decodeIfPresent(String.self, forKey: .selectURL)
                let flush = try v.decodeIfPresent([String].self, forKey: .flushURLs)
                var settings: VictoriaMetricsSettings
                switch (url, insert, select) {
                case (let url?, nil, nil):
                    settings = VictoriaMetricsSettings(insertURL: url, selectURL: url, flushURLs: flush ?? [url])
                case (nil, let insert?, let select?):
                    guard let flush, !flush.isEmpty else {
                        throw ConfigError(
                            "storage.victoriametrics.flush_urls: a cluster needs each vmstorage's HTTP address (http://vmstorage-1:8482), so a write is searchable when Plumb answers"
                        )
                    }
                    settings = VictoriaMetricsSettings(insertURL: insert, selectURL: select, flushURLs: flush)
                default:
                    throw ConfigError(
                        "storage.victoriametrics needs either url (a single node) or both insert_url and select_url (a cluster)"
                    )
                }
                let single = url != nil
                let named = [
                    (single ? "url" : "insert_url", settings.insertURL),
                    (single ? "url" : "select_url", settings.selectURL),
                ]
                for (name, value) in named + settings.flushURLs.map({ ("flush_urls", $0) })
                where URL(string: value)?.host == nil || !(value.hasPrefix("http://") || value.hasPrefix("https://")) {
                    throw ConfigError("storage.victoriametrics.\(name): '\(value)' is not an http:// or https:// URL")
                }
                if let seconds = try v.decodeIfPresent(Double.self, forKey: .timeout) {
                    guard (0.1...600).contains(seconds) else {
                        throw ConfigError("storage.victoriametrics.timeout must be from 0.1 to 600 seconds")
                    }
                    settings.timeout = .milliseconds(Int64(seconds * 1_000))
                }
                if let limit = try v.decodeIfPresent(Int.self, forKey: .maxReadSamples) {
                    guard (1_000...1_000_000_000).contains(limit) else {
                        throw ConfigError("storage.victoriametrics.max_read_samples must be from 1000 to 1000000000")
                    }
                    settings.maxReadSamples = limit
                }
                victoriaMetrics = settings
            }
            if metrics == .victoriaMetrics && victoriaMetrics == nil {
                throw ConfigError("storage.metrics is victoriametrics: storage.victoriametrics.url is required")
            }
            if let name = try c.decodeIfPresent(String.self, forKey: .logs) {
                guard let backend = LogsBackend(rawValue: name) else {
                    throw ConfigError("storage.logs must be sqlite or postgres, not '\(name)'")
                }
                logs = backend
            }
            if let name = try c.decodeIfPresent(String.self, forKey: .state) {
                guard let backend = LogsBackend(rawValue: name) else {
                    throw ConfigError("storage.state must be sqlite or postgres, not '\(name)'")
                }
                state = backend
            }
            if c.contains(.postgres), try !c.decodeNil(forKey: .postgres) {
                postgres = try Self.postgresSettings(
                    try c.nestedContainer(keyedBy: PostgresKeys.self, forKey: .postgres))
            }
            if logs == .postgres && postgres == nil {
                throw ConfigError("storage.logs is postgres: storage.postgres.url is required")
            }
            if state == .postgres && postgres == nil {
                throw ConfigError("storage.state is postgres: storage.postgres.url is required")
            }
        }

        /// `storage.postgres`: a `postgres://` URL, the password from an environment variable when `password_env`
        /// names one (so it is never in the file), and how long a statement may take.
        static func postgresSettings(_ p: KeyedDecodingContainer<PostgresKeys>) throws -> PostgresSettings {
            guard let url = try p.decodeIfPresent(String.self, forKey: .url) else {
                throw ConfigError("storage.postgres.url is required (postgres://user@host:5432/database)")
            }
            var password: String?
            if let variable = try p.decodeIfPresent(String.self, forKey: .passwordEnv) {
                guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                    throw ConfigError("storage.postgres.password_env: the environment variable \(variable) is not set")
                }
                password = value
            }
            var settings: PostgresSettings
            do {
                settings = try PostgresSettings(url: url, password: password)
            } catch let error as PostgresSettingsError {
                throw ConfigError("storage.postgres.url: \(error.description)")
            }
            if let seconds = try p.decodeIfPresent(Double.self, forKey: .timeout) {
                guard (0.1...600).contains(seconds) else {
                    throw ConfigError("storage.postgres.timeout must be from 0.1 to 600 seconds")
                }
                settings.timeout = .milliseconds(Int64(seconds * 1_000))
            }
            return settings
        }
    }
}
