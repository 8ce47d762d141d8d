import Foundation

extension ServerConfig {
    /// The `cluster:` section: how this node names itself and where it is reached, among the nodes that share
    /// `storage.postgres` (`GET /api/v1/cluster` lists them). Without `storage.postgres` there is no cluster.
    public struct ClusterSettings: Sendable, Decodable, Equatable {
        /// Unique among the nodes; default `<hostname>:<port>`.
        public var node: String?
        /// This node's own address (not the load balancer's); default `http(s)://<listen>`.
        public var url: String?

        public init() {}

        enum CodingKeys: String, CodingKey { case node, url }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            node = try c.decodeIfPresent(String.self, forKey: .node)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            if let node, !Self.isValidName(node) {
                throw ConfigError("cluster.node must be 1 to 128 characters of a-z A-Z 0-9 . _ : -")
            }
            if let url, URL(string: url)?.host == nil || !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw ConfigError("cluster.url: '\(url)' is not an http:// or https:// URL")
            }
        }

        static func isValidName(_ name: String) -> Bool {
            !name.isEmpty && name.utf8.count <= 128
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }
        }
    }

    /// This node's name in the cluster: `cluster.node`, else the host name and the listening port.
    public var nodeName: String {
        if let node = cluster.node { return node }
        let port = (try? listenAddress().port) ?? 9400
        let host = ProcessInfo.processInfo.hostName.filter {
            $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0))
        }
        return "\(host.isEmpty ? "plumb" : String(host.prefix(100))):\(port)"
    }

    /// This node's own address: `cluster.url`, else `http(s)://<listen>`.
    public var nodeURL: String {
        if let url = cluster.url { return url }
        let scheme = tls == nil ? "http" : "https"
        guard let (host, port) = try? listenAddress() else { return "\(scheme)://127.0.0.1:9400" }
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}
