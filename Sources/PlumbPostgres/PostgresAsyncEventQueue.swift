import Foundation
import Logging
import PlumbHost
import PostgresNIO

/// Lambda's asynchronous invocation queue and the schedules' last runs on PostgreSQL (`storage.state: postgres`),
/// shared by every node of a cluster: an event accepted by any node is run by whichever node claims it first
/// (`due`: `FOR UPDATE SKIP LOCKED`, then `claimed_until` now + `AsyncEventQueue.claimDuration`), and a schedule the
/// leader fired is recorded where the next leader reads it, so a takeover does not fire it again.
public final class PostgresAsyncEventQueue: AsyncEventStoring, Sendable {
    public let database: PostgresStore
    let node: String
    let logger: Logger

    /// The events area's schema, version by version (documented in docs/postgres-schema.md).
    public static let migrations: [PostgresMigration] = [
        PostgresMigration(
            1,
            [
                """
                CREATE TABLE async_events (id bigserial PRIMARY KEY, function text NOT NULL, payload bytea NOT NULL,
                    received_at double precision NOT NULL, attempts integer NOT NULL DEFAULT 0,
                    function_errors integer NOT NULL DEFAULT 0, next_attempt_at double precision NOT NULL,
                    status text NOT NULL, last_error text, claimed_until double precision NOT NULL DEFAULT 0,
                    claimed_by text)
                """,
                "CREATE INDEX async_events_due ON async_events (next_attempt_at, id) WHERE status = 'pending'",
                "CREATE TABLE schedule_runs (function text PRIMARY KEY, last_run bigint NOT NULL)",
            ]),
        PostgresMigration(2, ["CREATE TABLE schedule_rules (name text PRIMARY KEY, document text NOT NULL)"]),
    ]

    init(database: PostgresStore, node: String, logger: Logger) {
        self.database = database
        self.node = node
        self.logger = logger
    }

    /// The queue on `database`, its schema migrated to this release's; `node` names the claimer.
    public static func open(
        database: PostgresStore, node: String, logger: Logger = Logger(label: "plumb.async")
    ) async throws -> PostgresAsyncEventQueue {
        try await database.migrate(area: "events", migrations)
        return PostgresAsyncEventQueue(database: database, node: node, logger: logger)
    }

    @discardableResult
    public func enqueue(function: String, payload: [UInt8], now: Double) async throws -> Int64 {
        let logger = self.logger
        let bytes = ByteBuffer(bytes: payload)
        return try await database.run { connection in
            for try await id in try await connection.query(
                """
                INSERT INTO async_events (function, payload, received_at, next_attempt_at, status)
                VALUES (\(function), \(bytes), \(now), \(now), 'pending') RETURNING id
                """, logger: logger
            ).decode(Int64.self) {
                return id
            }
            throw PostgresSchemaError("INSERT … RETURNING id returned nothing")
        }
    }

    public func lastScheduledRun(of function: String) async throws -> Int64? {
        let logger = self.logger
        return try await database.run { connection in
            for try await last in try await connection.query(
                "SELECT last_run FROM schedule_runs WHERE function = \(function)", logger: logger
            ).decode(Int64.self) {
                return last
            }
            return nil
        }
    }

    public func recordScheduledRun(of function: String, at time: Int64) async throws {
        let logger = self.logger
        try await database.run { connection in
            try await connection.query(
                """
                INSERT INTO schedule_runs (function, last_run) VALUES (\(function), \(time))
                ON CONFLICT (function) DO UPDATE SET last_run = excluded.last_run
                """, logger: logger)
        }
    }

    public func scheduleRules() async throws -> [String: String] {
        let logger = self.logger
        return try await database.run { connection in
            var rules: [String: String] = [:]
            for try await (name, document) in try await connection.query(
                "SELECT name, document FROM schedule_rules", logger: logger
            ).decode((String, String).self) {
                rules[name] = document
            }
            return rules
        }
    }

    public func putScheduleRule(name: String, document: String?) async throws {
        let logger = self.logger
        try await database.run { connection in
            if let document {
                try await connection.query(
                    """
                    INSERT INTO schedule_rules (name, document) VALUES (\(name), \(document))
                    ON CONFLICT (name) DO UPDATE SET document = excluded.document
                    """, logger: logger)
            } else {
                try await connection.query("DELETE FROM schedule_rules WHERE name = \(name)", logger: logger)
            }
        }
    }

    public func due(now: Double, limit: Int) async throws -> [AsyncEventQueue.Event] {
        guard limit > 0 else { return [] }
        let logger = self.logger
        let node = self.node
        let until = now + AsyncEventQueue.claimDuration
        let claimed = try await database.run { connection in
            try await Self.events(
                connection.query(
                    """
                    UPDATE async_events SET claimed_until = \(until), claimed_by = \(node)
                    WHERE id IN (
                        SELECT id FROM async_events
                        WHERE status = 'pending' AND next_attempt_at <= \(now) AND claimed_until <= \(now)
                        ORDER BY next_attempt_at, id LIMIT \(limit)
                        FOR UPDATE SKIP LOCKED)
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger))
        }
        return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    public func event(id: Int64) async throws -> AsyncEventQueue.Event? {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.events(
                connection.query("SELECT \(unescaped: Self.columns) FROM async_events WHERE id = \(id)", logger: logger)
            ).first
        }
    }

    public func events(status: String?, limit: Int) async throws -> [AsyncEventQueue.Event] {
        let logger = self.logger
        return try await database.run { connection in
            try await Self.events(
                connection.query(
                    """
                    SELECT \(unescaped: Self.columns) FROM async_events
                    WHERE \(status)::text IS NULL OR status = \(status)::text ORDER BY id DESC LIMIT \(limit)
                    """, logger: logger))
        }
    }

    @discardableResult
    public func complete(
        _ event: AsyncEventQueue.Event, outcome: AsyncEventQueue.Outcome, now: Double,
        settings: AsyncEventQueue.Settings
    ) async throws -> AsyncEventQueue.Disposition {
        let completion = AsyncEventQueue.completion(of: event, after: outcome, now: now, settings: settings)
        let logger = self.logger
        let node = self.node
        try await database.run { connection in
            try await connection.query(
                """
                UPDATE async_events SET attempts = attempts + 1, function_errors = \(completion.functionErrors),
                    next_attempt_at = \(completion.nextAttemptAt), status = \(completion.status),
                    last_error = \(completion.lastError), claimed_until = 0
                WHERE id = \(event.id) AND claimed_by = \(node)
                """, logger: logger)
        }
        return completion.disposition
    }

    static let columns =
        "id, function, payload, received_at, attempts, function_errors, next_attempt_at, status, last_error"

    static func events(_ rows: PostgresRowSequence) async throws -> [AsyncEventQueue.Event] {
        var out: [AsyncEventQueue.Event] = []
        for try await row in rows {
            let (id, function, payload, receivedAt, attempts, functionErrors, next, status, lastError) =
                try row.decode((Int64, String, ByteBuffer, Double, Int, Int, Double, String, String?).self)
            out.append(
                AsyncEventQueue.Event(
                    id: id, function: function, payload: Array(buffer: payload), receivedAt: receivedAt,
                    attempts: attempts, functionErrors: functionErrors, nextAttemptAt: next, status: status,
                    lastError: lastError))
        }
        return out
    }
}
