/// `GET /api/v1/cluster`: the nodes sharing this node's PostgreSQL, which one leads, and how each is.
///
/// A node on the embedded stores (no `storage.postgres`) is a cluster of one: `clustered` is false and it lists
/// itself as its own leader.
public struct ClusterStatus: Sendable, Equatable, Codable {
    public var clustered: Bool
    /// The node that answered.
    public var node: String
    /// The node holding the leader lease now (nil while none does, e.g. right after the leader died).
    public var leader: String?
    public var nodes: [ClusterNode]

    public init(clustered: Bool, node: String, leader: String?, nodes: [ClusterNode]) {
        self.clustered = clustered
        self.node = node
        self.leader = leader
        self.nodes = nodes
    }
}

/// One node as the cluster last heard of it.
public struct ClusterNode: Sendable, Equatable, Codable {
    public var name: String
    /// Where the node says it is reached (`cluster.url`).
    public var url: String
    public var version: String
    /// RFC 3339.
    public var startedAt: String
    /// RFC 3339: its last heartbeat, by PostgreSQL's clock.
    public var lastSeen: String
    /// Whether it sent a heartbeat within the last three intervals.
    public var alive: Bool
    /// Whether its session holds the leader lease now.
    public var leader: Bool
    /// Whether it said it was ready (its stores answering) at its last heartbeat.
    public var ready: Bool

    public init(
        name: String, url: String, version: String, startedAt: String, lastSeen: String, alive: Bool, leader: Bool,
        ready: Bool
    ) {
        self.name = name
        self.url = url
        self.version = version
        self.startedAt = startedAt
        self.lastSeen = lastSeen
        self.alive = alive
        self.leader = leader
        self.ready = ready
    }
}
