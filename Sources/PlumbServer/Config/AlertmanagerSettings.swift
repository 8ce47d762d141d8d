extension ServerConfig {
    /// The `alertmanager:` section: how Plumb behaves as an Alertmanager client (`protocol: alertmanager`).
    public struct AlertmanagerSettings: Sendable, Decodable {
        /// Seconds between sends of a firing alert, as Prometheus's `--rules.alert.resend-delay` (1 minute). Each
        /// send sets `endsAt` 4 times this ahead, so Alertmanager keeps the alert through a few lost sends and
        /// resolves it by itself if Plumb goes quiet.
        public var resendInterval: Double = 60

        enum CodingKeys: String, CodingKey { case resendInterval = "resend_interval" }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            resendInterval = try c.decodeIfPresent(Double.self, forKey: .resendInterval) ?? resendInterval
            guard resendInterval.isFinite, resendInterval >= 1, resendInterval <= 3_600 else {
                throw ConfigError("alertmanager.resend_interval must be from 1 to 3600 seconds")
            }
        }
    }
}
