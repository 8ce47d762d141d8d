/// One log group as `GET /api/v1/logs` lists it.
public struct LogGroupDescription: Sendable, Equatable, Codable {
    public var name: String
    /// Days events are kept; absent: never expire.
    public var retentionDays: Int?
    public var storedEvents: Int
    public var archivedEvents: Int
    /// Raw bytes over compressed bytes of the sealed blocks; absent while nothing is sealed.
    public var archiveCompressionRatio: Double?
    /// RFC 3339 (UTC).
    public var createdAt: String

    public init(
        name: String, retentionDays: Int?, storedEvents: Int, archivedEvents: Int, archiveCompressionRatio: Double?,
        createdAt: String
    ) {
        self.name = name
        self.retentionDays = retentionDays
        self.storedEvents = storedEvents
        self.archivedEvents = archivedEvents
        self.archiveCompressionRatio = archiveCompressionRatio
        self.createdAt = createdAt
    }
}

/// The answer of `GET /api/v1/logs`.
public struct LogGroupsResponse: Sendable, Equatable, Codable {
    public var groups: [LogGroupDescription]

    public init(groups: [LogGroupDescription]) {
        self.groups = groups
    }
}
