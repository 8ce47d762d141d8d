/// One entry of the audit trail, the message of an event in `/plumb/audit` (streams `api` and `plugins`): who did
/// what, from where, with which outcome. Written as a JSON object; readers such as `plumb audit` decode it here.
///
/// Every member is optional and one of another type reads as absent: entries come from several writers (API calls,
/// sign-ins, plugins), and a reader shows what an entry has.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// RFC 3339 (UTC).
    public var time: String?
    /// `admin:…`, `user:NAME`, `unknown-token:…`.
    public var actor: String?
    /// `METHOD /endpoint` or an IAM-style action (`iam:Login`).
    public var action: String?
    public var resource: String?
    /// The client's address and port.
    public var source: String?
    /// The HTTP status answered.
    public var status: Int?
    /// `success`, `denied` or `failed`.
    public var result: String?
    /// The route, for entries whose action is not one.
    public var route: String?

    public init(
        time: String? = nil, actor: String? = nil, action: String? = nil, resource: String? = nil,
        source: String? = nil, status: Int? = nil,
        result: String? = nil, route: String? = nil
    ) {
        self.time = time
        self.actor = actor
        self.action = action
        self.resource = resource
        self.source = source
        self.status = status
        self.result = result
        self.route = route
    }

    enum CodingKeys: String, CodingKey {
        case time, actor, action, resource, source, status, result, route
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) -> String? { (try? c.decodeIfPresent(String.self, forKey: key)) ?? nil }
        time = text(.time)
        actor = text(.actor)
        action = text(.action)
        resource = text(.resource)
        source = text(.source)
        status = (try? c.decodeIfPresent(Int.self, forKey: .status)) ?? nil
        result = text(.result)
        route = text(.route)
    }
}
