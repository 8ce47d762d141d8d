import Foundation
import PlumbHost
import PlumbNotify
import PlumbOpen
import PlumbStore
import Yams

/// The server's configuration: `deploy/plumb.yaml` documents every key. Everything has a default, so
/// `plumb serve` runs with no file at all.
public struct ServerConfig: Sendable, Decodable {
    /// `HOST:PORT` to listen on.
    public var listen = "127.0.0.1:9400"
    /// Data directory; defaults to `$STATE_DIRECTORY` (systemd) or `./plumb-data`.
    public var data: String?
    /// Name of an environment variable holding the admin token (instead of `admin.token` in the data dir).
    public var adminTokenEnv: String?
    /// Name of an environment variable holding the secrets key (base64 of 32 bytes) instead of `secrets.key` in the
    /// data dir: webhook secrets and TOTP seeds are sealed with it.
    public var secretsKeyEnv: String?
    /// Account-wide concurrency limit of the plugin host (Lambda's default: 1,000).
    public var accountConcurrency = 1_000
    /// `full` (fsync each group commit) or `normal`.
    public var durability: Durability = .full
    /// Whether `GET /metrics` needs the admin token.
    public var metricsRequireToken = false
    public var metrics = MetricsSettings()
    /// Which engine keeps the metrics (SQLite by default).
    public var storage = StorageSettings()
    /// This node's name and address among the nodes sharing `storage.postgres`.
    public var cluster = ClusterSettings()
    /// Per-function settings by `<plugin>.<function>`.
    public var functions: [String: FunctionSettings] = [:]
    /// Per-plugin settings by plugin name (e.g. `sentiment: {lexicon_dir: /path}`).
    public var plugins: [String: [String: String]] = [:]
    /// Directory of alert files (alarms, topics).
    public var alerts = "./alerts"
    /// Directory of dashboard files.
    public var dashboards = "./dashboards"
    /// The URL users reach this server at, for links in notifications; defaults to `http://<listen>`.
    public var publicURL: String?
    public var logs = LogSettings()
    public var webSocket = WebSocketSettings()
    public var iam = IAMSettings()
    /// Timeouts and the per-address connection cap of the listener.
    public var http = HTTPSettings()
    /// HTTPS on `listen`; nil serves plain HTTP.
    public var tls: TLSSettings?
    /// How alarms are sent to Alertmanagers (`protocol: alertmanager` subscriptions).
    public var alertmanager = AlertmanagerSettings()
    /// The signed links of alarm mails to the read-only alarm page.
    public var alarmPage = AlarmPageSettings()
    /// OpenTelemetry ingest: a second listener, log group names, promoted resource attributes.
    public var otlp = OTLPSettings()
    /// The Prometheus query API's limits.
    public var promql = PromQLSettings()
    /// Costing usage: the window and the price table.
    public var usage = UsageSettings()
    /// The AWS API's region and account id.
    public var aws = AWSSettings()
    /// Prometheus scrape jobs, in prometheus.yml's own format.
    public var scrapeConfigs: [ScrapeConfig] = []

    /// The `websocket:` section: limits of the plugins' WebSocket endpoints.
    public struct WebSocketSettings: Sendable, Decodable {
        /// Largest frame (message) a client may send; bigger ones close the connection with 1009.
        public var maxFrameBytes = 32 * 1_024
        /// Bytes queued for one connection before it is closed as a slow consumer (1008).
        public var sendBufferBytes = 1_048_576
        /// Seconds without a frame from the client before the connection is closed (1001); API Gateway: 600.
        public var idleTimeout: Double = 600
        /// Seconds between pings; a missing pong closes the connection.
        public var pingInterval: Double = 30

        enum CodingKeys: String, CodingKey {
            case maxFrameBytes = "max_frame_bytes"
            case sendBufferBytes = "send_buffer_bytes"
            case idleTimeout = "idle_timeout"
            case pingInterval = "ping_interval"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            maxFrameBytes = try c.decodeIfPresent(Int.self, forKey: .maxFrameBytes) ?? maxFrameBytes
            sendBufferBytes = try c.decodeIfPresent(Int.self, forKey: .sendBufferBytes) ?? sendBufferBytes
            idleTimeout = try c.decodeIfPresent(Double.self, forKey: .idleTimeout) ?? idleTimeout
            pingInterval = try c.decodeIfPresent(Double.self, forKey: .pingInterval) ?? pingInterval
            guard (125...16_777_216).contains(maxFrameBytes) else {
                throw ConfigError("websocket.max_frame_bytes must be from 125 to 16777216")
            }
            guard sendBufferBytes >= maxFrameBytes else {
                throw ConfigError("websocket.send_buffer_bytes must be at least max_frame_bytes")
            }
            guard (1...86_400).contains(idleTimeout), (1...3_600).contains(pingInterval) else {
                throw ConfigError(
                    "websocket.idle_timeout must be from 1 to 86400 seconds and ping_interval from 1 to 3600")
            }
        }

        var gatewaySettings: WebSocketGateway.Settings {
            WebSocketGateway.Settings(
                maxFrameBytes: maxFrameBytes, sendBufferBytes: sendBufferBytes,
                idleTimeout: .milliseconds(Int64(idleTimeout * 1_000)),
                pingInterval: .milliseconds(Int64(pingInterval * 1_000)))
        }
    }

    /// The `logs:` section.
    public struct LogSettings: Sendable, Decodable {
        /// Seconds after which events are sealed into a compressed block even when they do not fill one (a group's
        /// events are sealed as soon as they fill a block). `archive_after`, the setting's name before sealed
        /// blocks, is read as this.
        public var sealAfter: Double = 300
        /// Seconds between retention passes.
        public var maintenanceInterval: Double = 3_600

        enum CodingKeys: String, CodingKey {
            case sealAfter = "seal_after"
            case archiveAfter = "archive_after"
            case maintenanceInterval = "maintenance_interval"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sealAfter =
                try c.decodeIfPresent(Double.self, forKey: .sealAfter)
                ?? c.decodeIfPresent(Double.self, forKey: .archiveAfter) ?? sealAfter
            maintenanceInterval =
                try c.decodeIfPresent(Double.self, forKey: .maintenanceInterval) ?? maintenanceInterval
            guard (1...3_650 * 86_400).contains(sealAfter), (1...7 * 86_400).contains(maintenanceInterval) else {
                throw ConfigError(
                    "logs.seal_after must be from 1 to 315360000 seconds (10 years) and logs.maintenance_interval from 1 to 604800"
                )
            }
        }
    }

    /// Outgoing mail for `email` subscriptions; without it email deliveries fail with a clear error.
    public var smtp: SMTPConfig?

    /// The `smtp:` section.
    public struct SMTPConfig: Sendable, Decodable {
        public var host = "127.0.0.1"
        public var port = 25
        /// `auto` (when offered), `required`, `never`; also true (= required) or false (= never).
        public var starttls = SMTPSettings.StartTLS.auto
        public var username: String?
        /// Name of the environment variable holding the password (never the password itself).
        public var passwordEnv: String?
        public var from = "plumb@localhost"
        public var helo: String?
        public var caFile: String?
        public var verifyCertificate = true
        public var allowPlaintextAuth = false
        public var timeout: Double = 30

        enum CodingKeys: String, CodingKey {
            case host, port, starttls, username, from, helo, timeout
            case passwordEnv = "password_env"
            case caFile = "ca_file"
            case verifyCertificate = "verify_certificate"
            case allowPlaintextAuth = "allow_plaintext_auth"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
            port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
            if let flag = try? c.decodeIfPresent(Bool.self, forKey: .starttls) {
                starttls = flag ? .required : .never
            } else if let text = try c.decodeIfPresent(String.self, forKey: .starttls) {
                guard let mode = SMTPSettings.StartTLS(rawValue: text) else {
                    throw ConfigError("smtp.starttls must be auto, required or never (or true/false)")
                }
                starttls = mode
            }
            username = try c.decodeIfPresent(String.self, forKey: .username)
            passwordEnv = try c.decodeIfPresent(String.self, forKey: .passwordEnv)
            from = try c.decodeIfPresent(String.self, forKey: .from) ?? from
            helo = try c.decodeIfPresent(String.self, forKey: .helo)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            verifyCertificate = try c.decodeIfPresent(Bool.self, forKey: .verifyCertificate) ?? true
            allowPlaintextAuth = try c.decodeIfPresent(Bool.self, forKey: .allowPlaintextAuth) ?? false
            timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? timeout
            guard (1...600).contains(timeout) else { throw ConfigError("smtp.timeout must be from 1 to 600 seconds") }
            guard (1...65_535).contains(port) else { throw ConfigError("smtp.port must be between 1 and 65535") }
            do { _ = try Mailbox(parsing: from) } catch { throw ConfigError("smtp.from: \(error.message)") }
            if let helo, let problem = EmailAddress.heloProblem(helo) {
                throw ConfigError("smtp.helo '\(helo)' \(problem)")
            }
            if let username, username.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw ConfigError("smtp.username holds a control character")
            }
            if username != nil && passwordEnv == nil { throw ConfigError("smtp.username needs smtp.password_env") }
        }

        /// The host name for EHLO when `smtp.helo` is not set; `localhost` when the host's name is not a valid one.
        static func defaultHelo(_ hostName: String) -> String {
            EmailAddress.heloProblem(hostName) == nil ? hostName : "localhost"
        }

        /// The client settings, reading the password from the environment.
        public func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SMTPSettings
        {
            var password: String?
            if let name = passwordEnv {
                guard let value = environment[name], !value.isEmpty else {
                    throw ConfigError("smtp.password_env names \(name), which is not set")
                }
                password = value
            }
            return SMTPSettings(
                host: host, port: port, startTLS: starttls, username: username, password: password, from: from,
                heloName: helo ?? Self.defaultHelo(ProcessInfo.processInfo.hostName),
                caFile: caFile, verifyCertificate: verifyCertificate, allowPlaintextAuth: allowPlaintextAuth,
                timeout: timeout)
        }
    }

    public struct MetricsSettings: Sendable, Decodable {
        /// Seconds between flushes of the in-memory head to the points table.
        public var flushInterval: Double = 5
        /// Seconds between reports of the server's own swift-metrics into the store.
        public var reportInterval: Double = 1
        /// Default storage resolution of `POST /write` data (1 or 60).
        public var lineProtocolResolution = 60

        public init() {}

        enum CodingKeys: String, CodingKey {
            case flushInterval = "flush_interval"
            case reportInterval = "report_interval"
            case lineProtocolResolution = "line_protocol_resolution"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            flushInterval = try c.decodeIfPresent(Double.self, forKey: .flushInterval) ?? flushInterval
            reportInterval = try c.decodeIfPresent(Double.self, forKey: .reportInterval) ?? reportInterval
            lineProtocolResolution =
                try c.decodeIfPresent(Int.self, forKey: .lineProtocolResolution) ?? lineProtocolResolution
            guard (0.01...3_600).contains(flushInterval), (0.01...3_600).contains(reportInterval) else {
                throw ConfigError(
                    "metrics.flush_interval and metrics.report_interval must be from 0.01 to 3600 seconds")
            }
            guard [1, 60].contains(lineProtocolResolution) else {
                throw ConfigError("metrics.line_protocol_resolution must be 1 or 60")
            }
        }
    }

    public init() {}

    /// The largest concurrency (account, reserved, provisioned, instances) a config may ask for: far beyond one
    /// host, and far from overflow in the arithmetic of admission and instance counts.
    public static let maxConcurrency = 1_000_000

    enum CodingKeys: String, CodingKey {
        case listen, data, durability, metrics, functions, plugins, alerts, dashboards, smtp, logs, iam, http, tls,
            alertmanager, storage, cluster, otlp, promql, usage, aws
        case webSocket = "websocket"
        case scrapeConfigs = "scrape_configs"
        case publicURL = "public_url"
        case alarmPage = "alarm_page"
        case adminTokenEnv = "admin_token_env"
        case secretsKeyEnv = "secrets_key_env"
        case accountConcurrency = "account_concurrency"
        case metricsRequireToken = "metrics_require_token"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen) ?? listen
        data = try c.decodeIfPresent(String.self, forKey: .data)
        adminTokenEnv = try c.decodeIfPresent(String.self, forKey: .adminTokenEnv)
        secretsKeyEnv = try c.decodeIfPresent(String.self, forKey: .secretsKeyEnv)
        accountConcurrency = try c.decodeIfPresent(Int.self, forKey: .accountConcurrency) ?? accountConcurrency
        durability = try c.decodeIfPresent(Durability.self, forKey: .durability) ?? durability
        metricsRequireToken = try c.decodeIfPresent(Bool.self, forKey: .metricsRequireToken) ?? false
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics) ?? MetricsSettings()
        storage = try c.decodeIfPresent(StorageSettings.self, forKey: .storage) ?? StorageSettings()
        cluster = try c.decodeIfPresent(ClusterSettings.self, forKey: .cluster) ?? ClusterSettings()
        if c.contains(.functions), try !c.decodeNil(forKey: .functions) {
            // One function at a time, so an error names the function it is about.
            let section = try c.nestedContainer(keyedBy: NameKey.self, forKey: .functions)
            for key in section.allKeys {
                do {
                    functions[key.stringValue] = try section.decode(FunctionSettings.self, forKey: key)
                } catch let error as ConfigError {
                    throw ConfigError("functions.\(key.stringValue).\(error.message)")
                }
            }
        }
        // A plugin entry whose settings are all commented out is null: no settings.
        plugins = (try c.decodeIfPresent([String: [String: String]?].self, forKey: .plugins) ?? [:]).mapValues {
            $0 ?? [:]
        }
        alerts = try c.decodeIfPresent(String.self, forKey: .alerts) ?? alerts
        dashboards = try c.decodeIfPresent(String.self, forKey: .dashboards) ?? dashboards
        publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL)
        smtp = try c.decodeIfPresent(SMTPConfig.self, forKey: .smtp)
        logs = try c.decodeIfPresent(LogSettings.self, forKey: .logs) ?? LogSettings()
        webSocket = try c.decodeIfPresent(WebSocketSettings.self, forKey: .webSocket) ?? WebSocketSettings()
        iam = try c.decodeIfPresent(IAMSettings.self, forKey: .iam) ?? IAMSettings()
        http = try c.decodeIfPresent(HTTPSettings.self, forKey: .http) ?? HTTPSettings()
        tls = try c.decodeIfPresent(TLSSettings.self, forKey: .tls)
        alertmanager = try c.decodeIfPresent(AlertmanagerSettings.self, forKey: .alertmanager) ?? AlertmanagerSettings()
        alarmPage = try c.decodeIfPresent(AlarmPageSettings.self, forKey: .alarmPage) ?? AlarmPageSettings()
        otlp = try c.decodeIfPresent(OTLPSettings.self, forKey: .otlp) ?? OTLPSettings()
        promql = try c.decodeIfPresent(PromQLSettings.self, forKey: .promql) ?? PromQLSettings()
        usage = try c.decodeIfPresent(UsageSettings.self, forKey: .usage) ?? UsageSettings()
        aws = try c.decodeIfPresent(AWSSettings.self, forKey: .aws) ?? AWSSettings()
        if c.contains(.scrapeConfigs), try !c.decodeNil(forKey: .scrapeConfigs) {
            var list = try c.nestedUnkeyedContainer(forKey: .scrapeConfigs)
            while !list.isAtEnd {
                let index = list.currentIndex
                do {
                    scrapeConfigs.append(try list.decode(ScrapeConfig.self))
                } catch let error as ScrapeConfigError {
                    throw ConfigError("scrape_configs[\(index)]: \(error.message)")
                } catch let DecodingError.dataCorrupted(context) where context.underlyingError is ScrapeConfigError {
                    throw ConfigError(
                        "scrape_configs[\(index)]: \((context.underlyingError as? ScrapeConfigError)?.message ?? "")")
                }
            }
            var names = Set<String>()
            for job in scrapeConfigs where !names.insert(job.jobName).inserted {
                throw ConfigError("scrape_configs: job_name '\(job.jobName)' is given twice")
            }
        }
        guard (1...Self.maxConcurrency).contains(accountConcurrency) else {
            throw ConfigError("account_concurrency must be from 1 to \(Self.maxConcurrency)")
        }
        _ = try listenAddress()
    }

    /// Reads a YAML config file; errors name the file and, where Yams knows it, the line.
    public static func load(path: String) throws -> ServerConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("cannot read config file \(path)")
        }
        do {
            return try YAMLDecoder().decode(ServerConfig.self, from: text)
        } catch let error as ConfigError {
            throw ConfigError("\(path): \(error.message)")
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is ConfigError {
            // A section's own check, wrapped by the decoder: say where it is.
            let message = (context.underlyingError as? ConfigError)?.message ?? ""
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError("\(path): \(at.isEmpty ? "" : at + ": ")\(message)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw ConfigError(
                "\(path): \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)")
        } catch {
            throw ConfigError("\(path): \(error)")
        }
    }

    /// Host and port of `listen`.
    public func listenAddress() throws -> (host: String, port: Int) {
        try Self.address(listen, key: "listen")
    }

    /// Host and port of a `HOST:PORT` setting (`[::1]:9400`; an empty host is every address); `key` names the
    /// setting in the error.
    static func address(_ text: String, key: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { throw ConfigError("\(key) '\(text)' must be HOST:PORT") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Base URL for links: `public_url`, else `http(s)://<listen>` (with 127.0.0.1 for a wildcard host).
    public var resolvedPublicURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        let scheme = tls == nil ? "http" : "https"
        guard let (host, port) = try? listenAddress() else { return "\(scheme)://127.0.0.1:9400" }
        let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        return "\(scheme)://\(shown):\(port)"
    }

    /// The data directory: the configured one, else `$STATE_DIRECTORY`, else `./plumb-data`.
    public var dataDirectory: String {
        if let data { return data }
        if let state = ProcessInfo.processInfo.environment["STATE_DIRECTORY"], !state.isEmpty {
            return String(state.split(separator: ":").first ?? Substring(state))
        }
        return "./plumb-data"
    }
}

/// A coding key for maps whose keys are names (functions, plugins).
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
