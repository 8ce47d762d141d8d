import Foundation
import Logging
import PlumbAPI
import PostgresNIO
import ServiceLifecycle
import Synchronization

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
    /// This process among every one that ever used the name: tells a restart from a second node with the same name.
    let instance = UUID().uuidString
    let database: PostgresStore
    let lease: LeaderLease
    let interval: Duration
    let isReady: @Sendable () -> Bool
    let logger: Logger
    /// When a heartbeat was last written, and why the last one failed: what `/readyz` answers from, so a probe costs
    /// no query.
    private let health = Mutex<(lastWritten: ContinuousClock.Instant, failure: String?)>((.now, nil))

    /// nil while heartbeats are being written; else why not, once none has been for three intervals.
    public var problem: String? {
        let (lastWritten, failure) = health.withLock { ($0.lastWritten, $0.failure) }
        let silent = ContinuousClock.now - lastWritten
        guard silent > interval * 3 else { return nil }
        return "no heartbeat written to PostgreSQL for \(Int(exactly: (silent / .seconds(1)).rounded()) ?? Int.max) s"
            + (failure.map { ": \($0)" } ?? "")
    }

    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE plumb_nodes (name text PRIMARY KEY, url text NOT NULL, version text NOT NULL,
                    started_at timestamptz NOT NULL, last_seen timestamptz NOT NULL, ready boolean NOT NULL,
                    lease_pid integer, instance text NOT NULL)
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

    /// Sets the schema up and claims the node's name; call before the first heartbeat.
    ///
    /// A name whose row another process still refreshes belongs to a live node: after waiting two stale intervals
    /// (a node restarted after a crash finds its old row gone stale by then) the start is refused, so two nodes never
    /// share one row (`plumb_nodes` would show one node where there are two).
    public func prepare() async throws {
        try await database.migrate(area: "cluster", Self.migrations)
        let (node, instance, logger) = (self.node, self.instance, self.logger)
        let stale = staleSeconds
        let deadline = ContinuousClock.now + .seconds(stale * 2)
        while true {
            let holder = try await database.run { connection -> (url: String, age: Double)? in
                for try await (url, age, other) in try await connection.query(
                    """
                    SELECT url, extract(epoch FROM now() - last_seen)::float8, instance FROM plumb_nodes
                    WHERE name = \(node) AND last_seen > now() - make_interval(secs => \(stale))
                    """, logger: logger
                ).decode((String, Double, String).self) where other != instance {
                    return (url, age)
                }
                return nil
            }
            guard let holder else { return }
            guard ContinuousClock.now < deadline else {
                throw ClusterNameTaken(
                    "another node named '\(node)' is alive (heartbeat \(Int(min(max(holder.age, 0), stale).rounded())) s ago, at \(holder.url)): give each node its own cluster.node"
                )
            }
            try await Task.sleep(for: interval)
        }
    }

    /// How long without a heartbeat makes a node down: three intervals.
    var staleSeconds: Double { 3 * (interval / .seconds(1)) }

    public func run() async throws {
        var first = true
        var failing = false
        health.withLock { $0 = (.now, nil) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await beat(starting: first)
                health.withLock { $0 = (.now, nil) }
                first = false
                if failing { logger.info("cluster heartbeat written again", metadata: ["node": "\(node)"]) }
                failing = false
            } catch {
                health.withLock { $0.failure = "\(error)" }
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
        let (instance, leads, logger) = (self.instance, lease.isLeader, self.logger)
        try await database.run { connection in
            if starting {
                try await connection.query(
                    """
                    INSERT INTO plumb_nodes (name, url, version, started_at, last_seen, ready, lease_pid, instance)
                    VALUES (\(node), \(url), \(version), now(), now(), \(ready), \(leasePID), \(instance))
                    ON CONFLICT (name) DO UPDATE SET url = excluded.url, version = excluded.version,
                        started_at = now(), last_seen = now(), ready = excluded.ready, lease_pid = excluded.lease_pid,
                        instance = excluded.instance
                    """, logger: logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO plumb_nodes (name, url, version, started_at, last_seen, ready, lease_pid, instance)
                    VALUES (\(node), \(url), \(version), now(), now(), \(ready), \(leasePID), \(instance))
                    ON CONFLICT (name) DO UPDATE SET url = excluded.url, version = excluded.version,
                        last_seen = now(), ready = excluded.ready, lease_pid = excluded.lease_pid,
                        instance = excluded.instance
                    """, logger: logger)
            }
            // The leader forgets nodes gone for a day (a node that comes back writes its row again).
            if leads {
                try await connection.query(
                    "DELETE FROM plumb_nodes WHERE last_seen < now() - interval '1 day'", logger: logger)
            }
        }
    }

    /// Every node that ever sent a heartbeat, by name, with who leads now.
    public func status() async throws -> ClusterStatus {
        let logger = self.logger
        let stale = staleSeconds
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

/// A node's name is in use by another live node.
public struct ClusterNameTaken: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
