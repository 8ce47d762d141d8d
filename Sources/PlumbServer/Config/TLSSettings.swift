extension ServerConfig {
    /// The `tls:` section: serve HTTPS on `listen` with this certificate chain and key (PEM, as certbot writes them).
    ///
    /// Both files are read again on SIGHUP (`systemctl reload plumb`), so a renewal needs no restart and drops no
    /// connection; a file that cannot be read then is logged and the previous certificate stays.
    public struct TLSSettings: Sendable, Decodable, Equatable {
        /// The certificate chain, leaf first (certbot's `fullchain.pem`).
        public var certFile: String
        /// The private key of the leaf (certbot's `privkey.pem`).
        public var keyFile: String
        /// Offer HTTP/2 by ALPN (`h2`); clients that do not ask for it, and WebSocket upgrades, stay on HTTP/1.1.
        public var http2 = true

        enum CodingKeys: String, CodingKey {
            case certFile = "cert_file"
            case keyFile = "key_file"
            case http2
        }

        public init(certFile: String, keyFile: String, http2: Bool = true) {
            self.certFile = certFile
            self.keyFile = keyFile
            self.http2 = http2
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guard let cert = try c.decodeIfPresent(String.self, forKey: .certFile), !cert.isEmpty else {
                throw ConfigError("tls.cert_file is required (the PEM certificate chain, e.g. certbot's fullchain.pem)")
            }
            guard let key = try c.decodeIfPresent(String.self, forKey: .keyFile), !key.isEmpty else {
                throw ConfigError("tls.key_file is required (the PEM private key, e.g. certbot's privkey.pem)")
            }
            certFile = cert
            keyFile = key
            http2 = try c.decodeIfPresent(Bool.self, forKey: .http2) ?? true
        }
    }
}
