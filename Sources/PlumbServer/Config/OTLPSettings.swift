/// The `otlp:` section: where OpenTelemetry exporters reach Plumb, and how resources become dimensions and log groups.
public struct OTLPSettings: Sendable, Decodable {
    /// A second listener for OTLP/HTTP only (`0.0.0.0:4318`, the conventional port); nil: only on `listen`.
    public var listen: String?
    /// The log group of a resource's records: `{key}` is a resource attribute.
    public var logGroup = "{service.name}"
    /// The log stream of a resource's records.
    public var logStream = "{service.instance.id}"
    /// Resource attributes that become dimensions of every metric of the resource (besides `job` and `instance`,
    /// which `service.name`, `service.namespace` and `service.instance.id` always give).
    public var promoteResourceAttributes: [String] = []

    enum CodingKeys: String, CodingKey {
        case listen
        case logGroup = "log_group"
        case logStream = "log_stream"
        case promoteResourceAttributes = "promote_resource_attributes"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(String.self, forKey: .listen)
        logGroup = try c.decodeIfPresent(String.self, forKey: .logGroup) ?? logGroup
        logStream = try c.decodeIfPresent(String.self, forKey: .logStream) ?? logStream
        promoteResourceAttributes =
            try c.decodeIfPresent([String].self, forKey: .promoteResourceAttributes) ?? []
        for (name, template) in [("log_group", logGroup), ("log_stream", logStream)] {
            guard !template.isEmpty, template.utf8.count <= 512,
                !template.unicodeScalars.contains(where: { $0.value < 32 })
            else { throw ConfigError("otlp.\(name) must be 1 to 512 characters without control characters") }
            guard template.filter({ $0 == "{" }).count == template.filter({ $0 == "}" }).count else {
                throw ConfigError("otlp.\(name) '\(template)' has an unclosed '{'")
            }
        }
        if logGroup.hasPrefix("/plumb/") {
            throw ConfigError("otlp.log_group may not be under /plumb/ (the server's own groups)")
        }
        guard promoteResourceAttributes.count <= 20,
            promoteResourceAttributes.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 255 })
        else { throw ConfigError("otlp.promote_resource_attributes holds at most 20 names of 1 to 255 characters") }
        _ = try listenAddress()
    }

    /// Host and port of `listen`.
    func listenAddress() throws -> (host: String, port: Int)? {
        try listen.map { try ServerConfig.address($0, key: "otlp.listen") }
    }
}
