import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Who does the work that must happen once in a cluster (alarm ticks, schedules, rollups, retention): the node
/// holding a PostgreSQL session advisory lock on a connection of its own.
///
/// - **Acquire**: every `retryInterval` a follower connects (if it is not connected) and asks
///   `pg_try_advisory_lock(key)`; the first to get it leads. PostgreSQL releases the lock when that session ends,
///   however it ends (the node exits or is killed, the connection drops, an operator terminates the backend).
/// - **Hold**: the leader checks its session every `checkInterval` (`SELECT 1` that must answer within `timeout`).
///   A check that fails or times out, or the connection closing, makes it a follower **at once**, before anything
///   else runs: `isLeader` turns false and `changes` says so. It closes that connection (so PostgreSQL ends the
///   session and frees the lock for another node) and tries again like any follower.
/// - A node therefore never believes it leads for longer than `checkInterval + timeout` after losing its session,
///   and another node takes over within `retryInterval` of PostgreSQL noticing the session is gone.
public final class LeaderLease: Service, Sendable {
    public let key: Int64
    public let node: String
    let settings: PostgresSettings
    let retryInterval: Duration
    let checkInterval: Duration
    let logger: Logger
    private let leading = Atomic<Bool>(false)
    /// The PostgreSQL backend process of the lease's session (0 when not connected): how the cluster's status tells
    /// which node's session holds the lock.
    private let backend = Atomic<Int32>(0)
    private let continuations = Mutex<[UUID: AsyncStream<Bool>.Continuation]>([:])

    /// The lease every Plumb node of one cluster contends for (`plumb`'s advisory lock key: "PLUM" in ASCII).
    public static let clusterKey: Int64 = 0x504C_554D

    public init(
        settings: PostgresSettings, key: Int64 = LeaderLease.clusterKey, node: String,
        retryInterval: Duration = .seconds(2), checkInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "plumb.lease")
    ) {
        self.settings = settings
        self.key = key
        self.node = node
        self.retryInterval = retryInterval
        self.checkInterval = checkInterval
        self.logger = logger
    }

    /// The lease session's backend process id in PostgreSQL, 0 when it has none.
    public var backendPID: Int32 { backend.load(ordering: .acquiring) }

    /// Whether this node holds the lease now.
    public var isLeader: Bool { leading.load(ordering: .acquiring) }

    /// Each change of leadership, starting with the current state.
    public var changes: AsyncStream<Bool> {
        AsyncStream { continuation in
            let id = UUID()
            continuations.withLock { $0[id] = continuation }
            continuation.yield(isLeader)
            continuation.onTermination = { [weak self] _ in
                _ = self?.continuations.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    private func set(_ leader: Bool) {
        guard leading.exchange(leader, ordering: .acquiringAndReleasing) != leader else { return }
        logger.info(
            leader ? "this node leads" : "this node no longer leads",
            metadata: ["node": "\(node)", "lease_key": "\(key)"])
        for continuation in continuations.withLock({ Array($0.values) }) { continuation.yield(leader) }
    }

    public func run() async throws {
        defer {
            set(false)
            continuations.withLock { all in
                for continuation in all.values { continuation.finish() }
                all.removeAll()
            }
        }
        var connectionID = 0
        // A problem that stays (a wrong password) is logged once, not at every retry.
        var lastProblem: String?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            connectionID += 1
            do {
                try await hold(connectionID: connectionID)
            } catch is CancellationError {
                return
            } catch {
                set(false)
                let problem = describePostgresError(error)
                if problem != lastProblem {
                    logger.warning(
                        "leader lease: \(problem)",
                        metadata: ["node": "\(node)", "postgres": "\(settings.description)"])
                }
                lastProblem = problem
            }
            set(false)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.retryInterval) }
        }
    }

    /// One session: try for the lock until it is granted, then keep checking it; returns or throws when the session
    /// is lost.
    private func hold(connectionID: Int) async throws {
        let connection = try await withTimeout(settings.timeout) {
            try await PostgresConnection.connect(
                configuration: try self.settings.configuration(), id: connectionID, logger: self.logger)
        }
        defer {
            backend.store(0, ordering: .releasing)
            Task { try? await connection.close() }
        }
        let pid = try await withTimeout(settings.timeout) {
            for try await pid in try await connection.query("SELECT pg_backend_pid()", logger: self.logger).decode(
                Int32.self)
            {
                return pid
            }
            return 0
        }
        backend.store(pid, ordering: .releasing)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let granted = try await withTimeout(settings.timeout) {
                let rows = try await connection.query("SELECT pg_try_advisory_lock(\(self.key))", logger: self.logger)
                for try await (value) in rows.decode(Bool.self) { return value }
                return false
            }
            if granted { break }
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.retryInterval) }
        }
        guard !Task.isCancelled && !Task.isShuttingDownGracefully else { return }
        set(true)
        // Held: check the session until it fails; the first failure ends leadership.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.checkInterval) }
            guard !connection.isClosed else { throw LeaseLost("the connection closed") }
            try await withTimeout(settings.timeout) {
                // The lock must still be this session's: a restarted server would have dropped it.
                // A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32), objsubid 1.
                let high = self.key >> 32
                let low = self.key & 0xFFFF_FFFF
                let rows = try await connection.query(
                    """
                    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                    AND classid::bigint = \(high) AND objid::bigint = \(low) AND objsubid = 1 AND granted
                    """, logger: self.logger)
                var held = false
                for try await (count) in rows.decode(Int64.self) { held = count > 0 }
                guard held else { throw LeaseLost("the session no longer holds the lock") }
            }
        }
    }

    /// `body`'s result, or `LeaseLost` once `timeout` has passed (see `withDeadline`).
    private func withTimeout<T: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withDeadline(timeout, late: { LeaseLost("PostgreSQL did not answer within \(timeout)") }, body)
    }
}

/// Why a leader stopped leading.
struct LeaseLost: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
