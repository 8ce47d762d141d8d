import Foundation
import Logging
import PlumbAPI
import PostgresNIO
import ServiceLifecycle

/// This node's place in the cluster of nodes sharing one PostgreSQL: a heartbeat row in `plumb_nodes` every
/// `interval` (name, URL, version, readiness, and the backend process of its leader-lease session), and the status of
/// every node read back from there.
///
/// Who leads is not what a node says of itself but which session PostgreSQL shows holding the lease's advisory lock
/// (`pg_locks`), matched to the node whose heartbeat names that session: a leader killed a moment ago stops being
/// shown as leader as soon as PostgreSQL has ended its session. A node is alive while its last heartbeat, by
/// PostgreSQL's clock (so the nodes' clocks do not matter), is younger than three intervals.
public final class ClusterMembership: Service, Sendable {
    public let node: String
    public let url: String
    public let version: String
    let database: PostgresStore
    let lease: LeaderLease
    let interval: Duration
    let isReady: @Sendable () -> Bool
    let logger: Logger

    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE plumb_nodes (name text PRIMARY KEY, url text NOT NULL, version text NOT NULL,
                    started_at timestamptz NOT NULL, last_seen timestamptz NOT NULL, ready boolean NOT NULL,
                    lease_pid integer)
                """
            ])
    ]

    public init(
        node: String, url: String, version: String, database: PostgresStore, lease: LeaderLease,
        interval: Duration = .seconds(2), isReady: @escaping @Sendable () -> Bool,
        logger: Logger = Logger(label: "plumb.cluster")
    ) {
        self.node = node
        self.url = url
        self.version = version
        self.database = database
        self.lease = lease
        self.interval = interval
        self.isReady = isReady
        self.logger = logger
    }

    /// Sets the schema up; call before the first heartbeat.
    public func prepare() async throws {
        try await database.migrate(area: "cluster", Self.migrations)
    }

    public func run() async throws {
        var first = true
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await beat(starting: first)
                first = false
                if failing { logger.info("cluster heartbeat written again", metadata: ["node": "\(node)"]) }
                failing = false
            } catch {
                // Once per outage, not per beat.
                if !failing { logger.warning("cluster heartbeat failed: \(error)", metadata: ["node": "\(node)"]) }
                failing = true
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Writes this node's row (a first beat also resets its start time).
    func beat(starting: Bool) async throws {
        let (node, url, version, ready) = (self.node, self.url, self.version, isReady())
        let pid = lease.backendPID
        let leasePID: Int32? = pid == 0 ? nil : pid
        let logger = self.logger
        try await database.run { connection in
            if starting {
                try await connection.query(
                    """
                    INSERT INTO plumb_nodes (name, url, version, started_at, last_seen, ready, lease_pid)
                    VALUES (\(node), \(url), \(version), now(), now(), \(ready), \(leasePID))
                    ON CONFLICT (name) DO UPDATE SET url = excluded.url, version = excluded.version,
                        started_at = now(), last_seen = now(), ready = excluded.ready, lease_pid = excluded.lease_pid
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO plumb_nodes (name, url, version, started_at, last_seen, ready, lease_pid)
                    VALUES (\(node), \(url), \(version), now(), now(), \(ready), \(leasePID))
                    ON CONFLICT (name) DO UPDATE SET url = excluded.url, version = excluded.version,
                        last_seen = now(), ready = excluded.ready, lease_pid = excluded.lease_pid
                    """, logger: logger)
            }
        }
    }

    /// Every node that ever sent a heartbeat, by name, with who leads now.
    public func status() async throws -> ClusterStatus {
        let logger = self.logger
        let stale = Double(interval.components.seconds) * 3 + Double(interval.components.attoseconds) * 3e-18
        let (high, low) = (lease.key >> 32, lease.key & 0xFFFF_FFFF)
        let nodes = try await database.run { connection in
            var nodes: [ClusterNode] = []
            for try await (name, url, version, started, seen, alive, ready, leader) in try await connection.query(
                """
                SELECT n.name, n.url, n.version, (extract(epoch FROM n.started_at) * 1000)::bigint,
                    (extract(epoch FROM n.last_seen) * 1000)::bigint,
                    n.last_seen > now() - make_interval(secs => \(stale)), n.ready,
                    n.lease_pid IS NOT NULL AND n.lease_pid IN (
                        SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                        AND classid::bigint = \(high) AND objid::bigint = \(low))
                FROM plumb_nodes n ORDER BY n.name COLLATE "C"
                """, logger: logger
            ).decode((String, String, String, Int64, Int64, Bool, Bool, Bool).self) {
                nodes.append(
                    ClusterNode(
                        name: name, url: url, version: version, startedAt: TimeParsing.format(started / 1_000),
                        lastSeen: TimeParsing.format(seen / 1_000), alive: alive, leader: leader, ready: ready))
            }
            return nodes
        }
        return ClusterStatus(clustered: true, node: node, leader: nodes.first(where: \.leader)?.name, nodes: nodes)
    }
}
