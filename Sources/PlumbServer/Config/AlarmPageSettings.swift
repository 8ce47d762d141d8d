extension ServerConfig {
    /// The `alarm_page:` section: the read-only alarm page that alarm mails link to.
    ///
    /// A mail's "View this alarm" link carries its own signature and expiry (`/alarms/NAME?exp=…&sig=…`), so whoever
    /// receives the mail can open the page without a token, for `link_expiry` seconds and for that alarm only.
    public struct AlarmPageSettings: Sendable, Decodable, Equatable {
        /// Seconds a link works after the notification that carries it was made: 7 days by default, from 5 minutes to
        /// 90 days. A mail forwarded beyond the team keeps working this long, so shorter is safer; longer suits
        /// alarms read in a weekly review.
        public var linkExpiry: Int64 = 7 * 86_400

        public static let linkExpiryRange: ClosedRange<Int64> = 300...(90 * 86_400)

        enum CodingKeys: String, CodingKey {
            case linkExpiry = "link_expiry"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            linkExpiry = try c.decodeIfPresent(Int64.self, forKey: .linkExpiry) ?? linkExpiry
            guard Self.linkExpiryRange.contains(linkExpiry) else {
                throw ConfigError("alarm_page.link_expiry must be from 300 to 7776000 seconds (5 minutes to 90 days)")
            }
        }
    }
}
