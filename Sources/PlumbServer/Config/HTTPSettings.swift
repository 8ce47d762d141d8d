extension ServerConfig {
    /// The `http:` section: how long a client may take over a request and how many connections one address holds.
    ///
    /// Without these a client that sends its head one byte a second, a body that never ends or an idle keep-alive
    /// connection holds a descriptor for ever; a few thousand of them exhaust the process's descriptors. The defaults
    /// are nginx's order of magnitude (`client_header_timeout` / `client_body_timeout` 60 s, `keepalive_timeout`
    /// 75 s), tighter for the head: a well-behaved client sends its head in one packet.
    public struct HTTPSettings: Sendable, Decodable, Equatable {
        /// Seconds a request head may take: from the connection's opening for its first request, from the first byte
        /// of the head for later ones. Past it: 408 and close (a connection that sent nothing is closed silently).
        public var headerTimeout: Double = 10
        /// Seconds from the end of the head to the end of the body. Past it: 408 and close.
        public var bodyTimeout: Double = 60
        /// Seconds a keep-alive connection may wait for its next request; then it is closed silently.
        public var idleTimeout: Double = 60
        /// Largest request head (request line and header fields, in bytes); a larger one is answered 431 and closed.
        public var maxHeadBytes = 65_536
        /// Concurrent connections from one client address; the next one is closed at once, before a byte is read.
        /// 0 switches the cap off.
        public var maxConnectionsPerAddress = 256
        /// Addresses (or CIDR ranges) the cap does not apply to: by default loopback, where a local reverse proxy,
        /// `plumb load` and the benchmarks connect from.
        public var perAddressExempt = ["127.0.0.0/8", "::1"]

        /// Header fields in one head: more is answered 431 (the HTTP parser's own limit is just above it).
        public static let maxHeaderFields = 1_000
        /// Connections the kernel queues for `accept` (capped by `net.core.somaxconn`). Hummingbird's 256 overflowed
        /// in the slow-client test: a burst of connections past it had their handshake completed a second late, when
        /// the kernel resent its SYN-ACK.
        public static let acceptBacklog = 4_096

        enum CodingKeys: String, CodingKey {
            case headerTimeout = "header_timeout"
            case bodyTimeout = "body_timeout"
            case idleTimeout = "idle_timeout"
            case maxHeadBytes = "max_head_bytes"
            case maxConnectionsPerAddress = "max_connections_per_address"
            case perAddressExempt = "per_address_exempt"
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            headerTimeout = try c.decodeIfPresent(Double.self, forKey: .headerTimeout) ?? headerTimeout
            bodyTimeout = try c.decodeIfPresent(Double.self, forKey: .bodyTimeout) ?? bodyTimeout
            idleTimeout = try c.decodeIfPresent(Double.self, forKey: .idleTimeout) ?? idleTimeout
            maxHeadBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeadBytes) ?? maxHeadBytes
            maxConnectionsPerAddress =
                try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerAddress) ?? maxConnectionsPerAddress
            perAddressExempt = try c.decodeIfPresent([String].self, forKey: .perAddressExempt) ?? perAddressExempt
            try validate()
        }

        /// Checks the values; the error names the key.
        public func validate() throws {
            for (key, value) in [
                ("header_timeout", headerTimeout), ("body_timeout", bodyTimeout), ("idle_timeout", idleTimeout),
            ] {
                guard value >= 0.1, value <= 86_400 else {
                    throw ConfigError("http.\(key) must be from 0.1 to 86400 seconds")
                }
            }
            guard (1_024...1_048_576).contains(maxHeadBytes) else {
                throw ConfigError("http.max_head_bytes must be from 1024 to 1048576")
            }
            guard maxConnectionsPerAddress >= 0 else {
                throw ConfigError("http.max_connections_per_address must be 0 (no cap) or more")
            }
            for entry in perAddressExempt where AddressRange(entry) == nil {
                throw ConfigError("http.per_address_exempt: '\(entry)' is not an IP address or CIDR range")
            }
        }
    }
}
