import Foundation
import PlumbMetrics

/// One entry of `scrape_configs`, in Prometheus' own format (a user pastes their prometheus.yml section): the keys
/// below are read; any other key is refused by name, so a setting Plumb would ignore never passes silently.
public struct ScrapeConfig: Sendable, Decodable {
    public var jobName: String
    /// Seconds between scrapes (Prometheus' default: 1m).
    public var scrapeInterval: Double = 60
    /// Seconds a scrape may take (default 10s, at most the interval).
    public var scrapeTimeout: Double = 10
    public var metricsPath = "/metrics"
    public var scheme = "http"
    public var params: [String: [String]] = [:]
    public var honorLabels = false
    public var honorTimestamps = true
    /// Samples per scrape beyond which the scrape fails (0: no limit).
    public var sampleLimit = 0
    public var staticConfigs: [StaticConfig] = []
    public var relabelConfigs: [RelabelRule] = []
    public var metricRelabelConfigs: [RelabelRule] = []
    public var basicAuth: BasicAuth?
    /// The `Authorization` header's type and credentials (`bearer_token` is read as a Bearer credential).
    public var authorization: Authorization?
    public var tlsConfig: TLSConfig?

    public struct StaticConfig: Sendable, Decodable {
        public var targets: [String]
        public var labels: [String: String] = [:]

        enum CodingKeys: String, CodingKey { case targets, labels }

        public init(from decoder: Decoder) throws {
            try ScrapeConfig.refuseUnknownKeys(decoder, ["targets", "labels"], in: "static_configs")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            targets = try c.decodeIfPresent([String].self, forKey: .targets) ?? []
            labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            for target in targets where !ScrapeConfig.isHostPort(target) {
                throw ScrapeConfigError("target '\(target)' must be host:port")
            }
        }
    }

    public struct BasicAuth: Sendable, Decodable {
        public var username: String
        public var password: String?
        public var passwordFile: String?

        enum CodingKeys: String, CodingKey {
            case username, password
            case passwordFile = "password_file"
        }

        public init(from decoder: Decoder) throws {
            try ScrapeConfig.refuseUnknownKeys(decoder, ["username", "password", "password_file"], in: "basic_auth")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            username = try c.decode(String.self, forKey: .username)
            password = try c.decodeIfPresent(String.self, forKey: .password)
            passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile)
            guard !DatumValidator.hasControlCharacter(username), !DatumValidator.hasControlCharacter(password ?? ""),
                !username.contains(":")
            else { throw ScrapeConfigError("basic_auth: the username or password holds a control character or ':'") }
        }
    }

    public struct Authorization: Sendable, Decodable {
        public var type = "Bearer"
        public var credentials: String?
        public var credentialsFile: String?

        enum CodingKeys: String, CodingKey {
            case type, credentials
            case credentialsFile = "credentials_file"
        }

        public init(type: String = "Bearer", credentials: String?, credentialsFile: String?) {
            self.type = type
            self.credentials = credentials
            self.credentialsFile = credentialsFile
        }

        public init(from decoder: Decoder) throws {
            try ScrapeConfig.refuseUnknownKeys(
                decoder, ["type", "credentials", "credentials_file"], in: "authorization")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? "Bearer"
            credentials = try c.decodeIfPresent(String.self, forKey: .credentials)
            credentialsFile = try c.decodeIfPresent(String.self, forKey: .credentialsFile)
            guard !type.isEmpty, type.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }),
                !DatumValidator.hasControlCharacter(credentials ?? "")
            else { throw ScrapeConfigError("authorization: the type must be a word and credentials on one line") }
        }
    }

    public struct TLSConfig: Sendable, Decodable {
        public var caFile: String?
        public var insecureSkipVerify = false

        enum CodingKeys: String, CodingKey {
            case caFile = "ca_file"
            case insecureSkipVerify = "insecure_skip_verify"
        }

        public init(from decoder: Decoder) throws {
            try ScrapeConfig.refuseUnknownKeys(decoder, ["ca_file", "insecure_skip_verify"], in: "tls_config")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            insecureSkipVerify = try c.decodeIfPresent(Bool.self, forKey: .insecureSkipVerify) ?? false
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case jobName = "job_name"
        case scrapeInterval = "scrape_interval"
        case scrapeTimeout = "scrape_timeout"
        case metricsPath = "metrics_path"
        case scheme, params
        case honorLabels = "honor_labels"
        case honorTimestamps = "honor_timestamps"
        case sampleLimit = "sample_limit"
        case staticConfigs = "static_configs"
        case relabelConfigs = "relabel_configs"
        case metricRelabelConfigs = "metric_relabel_configs"
        case basicAuth = "basic_auth"
        case authorization
        case bearerToken = "bearer_token"
        case bearerTokenFile = "bearer_token_file"
        case tlsConfig = "tls_config"
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Refuses a key Plumb does not read, by name: a setting that would be ignored must not pass silently.
    static func refuseUnknownKeys(_ decoder: Decoder, _ known: Set<String>, in what: String) throws {
        if let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.first(where: {
            !known.contains($0.stringValue)
        }) {
            throw ScrapeConfigError("'\(unknown.stringValue)' is not a key of \(what) that Plumb reads")
        }
    }

    public init(from decoder: Decoder) throws {
        try Self.refuseUnknownKeys(decoder, Set(CodingKeys.allCases.map(\.rawValue)), in: "a scrape_config")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        jobName = try c.decode(String.self, forKey: .jobName)
        guard !jobName.isEmpty, jobName.utf8.count <= 255, !jobName.unicodeScalars.contains(where: { $0.value < 32 })
        else { throw ScrapeConfigError("job_name must be 1 to 255 characters without control characters") }
        if let text = try c.decodeIfPresent(String.self, forKey: .scrapeInterval) {
            scrapeInterval = try Self.duration(text, "scrape_interval")
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .scrapeTimeout) {
            scrapeTimeout = try Self.duration(text, "scrape_timeout")
        } else {
            scrapeTimeout = min(10, scrapeInterval)
        }
        guard scrapeInterval >= 1, scrapeInterval <= 86_400 else {
            throw ScrapeConfigError("scrape_interval must be from 1s to 24h")
        }
        guard scrapeTimeout > 0, scrapeTimeout <= scrapeInterval else {
            throw ScrapeConfigError("scrape_timeout must be more than 0 and at most scrape_interval")
        }
        metricsPath = try c.decodeIfPresent(String.self, forKey: .metricsPath) ?? metricsPath
        guard metricsPath.hasPrefix("/"), !metricsPath.unicodeScalars.contains(where: { $0.value <= 32 || $0 == "?" })
        else { throw ScrapeConfigError("metrics_path must be a path starting with '/', without spaces or '?'") }
        scheme = try c.decodeIfPresent(String.self, forKey: .scheme) ?? scheme
        guard scheme == "http" || scheme == "https" else { throw ScrapeConfigError("scheme must be http or https") }
        params = try c.decodeIfPresent([String: [String]].self, forKey: .params) ?? [:]
        honorLabels = try c.decodeIfPresent(Bool.self, forKey: .honorLabels) ?? false
        honorTimestamps = try c.decodeIfPresent(Bool.self, forKey: .honorTimestamps) ?? true
        sampleLimit = try c.decodeIfPresent(Int.self, forKey: .sampleLimit) ?? 0
        guard sampleLimit >= 0 else { throw ScrapeConfigError("sample_limit must be 0 or more") }
        staticConfigs = try c.decodeIfPresent([StaticConfig].self, forKey: .staticConfigs) ?? []
        relabelConfigs = try c.decodeIfPresent([RelabelRule].self, forKey: .relabelConfigs) ?? []
        metricRelabelConfigs = try c.decodeIfPresent([RelabelRule].self, forKey: .metricRelabelConfigs) ?? []
        basicAuth = try c.decodeIfPresent(BasicAuth.self, forKey: .basicAuth)
        authorization = try c.decodeIfPresent(Authorization.self, forKey: .authorization)
        let bearer = try c.decodeIfPresent(String.self, forKey: .bearerToken)
        let bearerFile = try c.decodeIfPresent(String.self, forKey: .bearerTokenFile)
        if bearer != nil || bearerFile != nil {
            guard authorization == nil else {
                throw ScrapeConfigError("bearer_token and authorization cannot both be set")
            }
            authorization = Authorization(credentials: bearer, credentialsFile: bearerFile)
        }
        guard basicAuth == nil || authorization == nil else {
            throw ScrapeConfigError("basic_auth and authorization cannot both be set")
        }
        tlsConfig = try c.decodeIfPresent(TLSConfig.self, forKey: .tlsConfig)
    }

    /// A Prometheus duration: `30s`, `1m`, `1m30s`, `500ms`, `2h`.
    public static func duration(_ text: String, _ key: String) throws -> Double {
        let units: [(String, Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400), ("w", 604_800),
        ]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { throw ScrapeConfigError("\(key) is empty") }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let n = Double(digits) else {
                throw ScrapeConfigError("\(key) '\(text)' is not a duration like 15s, 1m or 1m30s")
            }
            rest = rest.dropFirst(digits.count)
            guard
                let (unit, scale) = units.first(where: {
                    rest.hasPrefix($0.0) && !(rest.hasPrefix("ms") && $0.0 == "m")
                })
            else { throw ScrapeConfigError("\(key) '\(text)' is not a duration like 15s, 1m or 1m30s") }
            rest = rest.dropFirst(unit.count)
            total += n * scale
        }
        return total
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port), colon > text.startIndex
        else { return false }
        return !text.unicodeScalars.contains { $0.value <= 32 || "/?#@".unicodeScalars.contains($0) }
    }
}

public struct ScrapeConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
