import Foundation
import GRDB
import PlumbStore

/// Lambda's asynchronous invocation queue, persisted in `events.sqlite`: an accepted event is on disk before
/// `enqueue` returns, and stays until it succeeded or failed for good.
///
/// Function errors are retried `maximumRetryAttempts` times (0–2, default 2), 1 minute and then 2 minutes apart.
/// Throttles and system errors are retried with backoff from 1 s, doubling up to 5 minutes, for as long as the
/// event is younger than `maximumEventAge` (default and maximum 6 hours). An event that runs out ends `failed`
/// with its reason; the caller sends it to the function's on-failure destination.
public final class AsyncEventQueue: Sendable {
    public let database: SQLiteStore

    public struct Settings: Sendable, Equatable {
        public var maximumRetryAttempts = 2
        /// Seconds (60 to 21,600).
        public var maximumEventAge: Double = 21_600

        public init(maximumRetryAttempts: Int = 2, maximumEventAge: Double = 21_600) {
            self.maximumRetryAttempts = maximumRetryAttempts
            self.maximumEventAge = maximumEventAge
        }

        public func validate() -> String? {
            guard (0...2).contains(maximumRetryAttempts) else { return "maximum_retry_attempts must be 0, 1 or 2" }
            guard (60...21_600).contains(maximumEventAge) else {
                return "maximum_event_age must be between 60 and 21600 seconds"
            }
            return nil
        }
    }

    public struct Event: Sendable, Equatable {
        public var id: Int64
        public var function: String
        public var payload: [UInt8]
        public var receivedAt: Double
        /// Invocations tried so far (throttles included).
        public var attempts: Int
        public var functionErrors: Int
        public var nextAttemptAt: Double
        public var status: String
        public var lastError: String?

        public init(
            id: Int64, function: String, payload: [UInt8], receivedAt: Double, attempts: Int, functionErrors: Int,
            nextAttemptAt: Double, status: String, lastError: String?
        ) {
            self.id = id
            self.function = function
            self.payload = payload
            self.receivedAt = receivedAt
            self.attempts = attempts
            self.functionErrors = functionErrors
            self.nextAttemptAt = nextAttemptAt
            self.status = status
            self.lastError = lastError
        }
    }

    /// How one attempt went.
    public enum Outcome: Sendable, Equatable {
        case success
        case functionError(String)
        /// Throttled or a system error: retried with backoff until the event is too old.
        case throttled(String)
    }

    /// What happens to the event next.
    public enum Disposition: Sendable, Equatable {
        case succeeded
        case retry(at: Double)
        case failed(reason: String)
    }

    /// How long a node of a cluster holds the events it claimed (`due`) before another node may run them: longer than
    /// Lambda's longest timeout (15 minutes).
    public static let claimDuration: Double = 960

    public init(directory: String, durability: Durability) throws {
        database = try SQLiteStore(
            path: directory + "/events.sqlite", durability: durability,
            migrations: [
                Migration("events-1") { db in
                    try db.execute(
                        sql: """
                            CREATE TABLE async_events (
                                id INTEGER PRIMARY KEY, function TEXT NOT NULL, payload BLOB NOT NULL, received_at REAL NOT NULL,
                                attempts INTEGER NOT NULL DEFAULT 0, function_errors INTEGER NOT NULL DEFAULT 0,
                                next_attempt_at REAL NOT NULL, status TEXT NOT NULL, last_error TEXT);
                            CREATE INDEX async_events_due ON async_events (status, next_attempt_at);
                            """)
                },
                Migration("events-2-schedules") { db in
                    try db.execute(
                        sql: "CREATE TABLE schedule_runs (function TEXT PRIMARY KEY, last_run INTEGER NOT NULL)")
                },
                Migration("events-3-schedule-rules") { db in
                    try db.execute(
                        sql: "CREATE TABLE schedule_rules (name TEXT PRIMARY KEY, document TEXT NOT NULL)")
                },
            ])
    }

    /// Persists an event; it is due at once.
    @discardableResult
    public func enqueue(function: String, payload: [UInt8], now: Double) throws -> Int64 {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO async_events (function, payload, received_at, next_attempt_at, status) VALUES (?, ?, ?, ?, 'pending')",
                arguments: [function, Data(payload), now, now])
            return db.lastInsertedRowID
        }
    }

    /// When a scheduled function last ran (epoch seconds), if ever.
    public func lastScheduledRun(of function: String) throws -> Int64? {
        try database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT last_run FROM schedule_runs WHERE function = ?", arguments: [function])
        }
    }

    public func recordScheduledRun(of function: String, at time: Int64) throws {
        try database.pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO schedule_runs (function, last_run) VALUES (?, ?) ON CONFLICT (function) DO UPDATE SET last_run = excluded.last_run",
                arguments: [function, time])
        }
    }

    public func scheduleRules() throws -> [String: String] {
        try database.pool.read { db in
            Dictionary(
                try Row.fetchAll(db, sql: "SELECT name, document FROM schedule_rules").map {
                    ($0["name"] as String, $0["document"] as String)
                }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func putScheduleRule(name: String, document: String?) throws {
        try database.pool.write { db in
            if let document {
                try db.execute(
                    sql:
                        "INSERT INTO schedule_rules (name, document) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET document = excluded.document",
                    arguments: [name, document])
            } else {
                try db.execute(sql: "DELETE FROM schedule_rules WHERE name = ?", arguments: [name])
            }
        }
    }

    /// Pending events due at `now`, oldest first.
    public func due(now: Double, limit: Int) throws -> [Event] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM async_events WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                arguments: [now, limit]
            ).map(Self.event)
        }
    }

    public func event(id: Int64) throws -> Event? {
        try database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM async_events WHERE id = ?", arguments: [id]).map(Self.event)
        }
    }

    public func events(status: String?, limit: Int) throws -> [Event] {
        try database.pool.read { db in
            if let status {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM async_events WHERE status = ? ORDER BY id DESC LIMIT ?",
                    arguments: [status, limit]
                ).map(Self.event)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM async_events ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(Self.event)
        }
    }

    /// The rule, as a pure function: what follows `outcome` for `event` at `now`.
    public static func disposition(
        of event: Event, after outcome: Outcome, now: Double, settings: Settings
    ) -> Disposition {
        switch outcome {
        case .success:
            return .succeeded
        case .functionError(let message):
            let errors = event.functionErrors + 1
            guard errors <= settings.maximumRetryAttempts else {
                return .failed(reason: "function error after \(errors) attempt\(errors == 1 ? "" : "s"): \(message)")
            }
            let at = now + (errors == 1 ? 60 : 120)
            guard at - event.receivedAt <= settings.maximumEventAge else {
                return .failed(reason: "event older than \(Int(settings.maximumEventAge)) s: \(message)")
            }
            return .retry(at: at)
        case .throttled(let message):
            let throttles = event.attempts - event.functionErrors  // attempts so far that were not function errors
            let delay = min(300, pow(2, Double(max(0, throttles))))
            let at = now + delay
            guard at - event.receivedAt <= settings.maximumEventAge else {
                return .failed(
                    reason: "event older than \(Int(settings.maximumEventAge)) s, still throttled: \(message)")
            }
            return .retry(at: at)
        }
    }

    /// What an attempt leaves in the store: the disposition, and the row's new function errors, next attempt,
    /// status and last error.
    public struct Completion: Sendable {
        public var disposition: Disposition
        public var functionErrors: Int
        public var nextAttemptAt: Double
        public var status: String
        public var lastError: String?
    }

    /// The rule applied to a row: what `complete` writes.
    public static func completion(
        of event: Event, after outcome: Outcome, now: Double, settings: Settings
    ) -> Completion {
        let disposition = Self.disposition(of: event, after: outcome, now: now, settings: settings)
        var functionErrors = event.functionErrors
        var lastError: String?
        switch outcome {
        case .success: break
        case .functionError(let m):
            functionErrors += 1
            lastError = m
        case .throttled(let m): lastError = m
        }
        let (status, next): (String, Double) =
            switch disposition {
            case .succeeded: ("succeeded", event.nextAttemptAt)
            case .retry(let at): ("pending", at)
            case .failed: ("failed", event.nextAttemptAt)
            }
        if case .failed(let reason) = disposition { lastError = reason }
        return Completion(
            disposition: disposition, functionErrors: functionErrors, nextAttemptAt: next, status: status,
            lastError: lastError)
    }

    /// Records an attempt and its disposition in one transaction.
    @discardableResult
    public func complete(_ event: Event, outcome: Outcome, now: Double, settings: Settings) throws -> Disposition {
        let completion = Self.completion(of: event, after: outcome, now: now, settings: settings)
        let (functionErrors, next, status, lastError) = (
            completion.functionErrors, completion.nextAttemptAt, completion.status, completion.lastError
        )
        let disposition = completion.disposition
        try database.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE async_events SET attempts = attempts + 1, function_errors = ?, next_attempt_at = ?, status = ?, last_error = ? WHERE id = ?",
                arguments: [functionErrors, next, status, lastError, event.id])
        }
        return disposition
    }

    static func event(_ row: Row) -> Event {
        Event(
            id: row["id"], function: row["function"], payload: [UInt8]((row["payload"] as Data?) ?? Data()),
            receivedAt: row["received_at"],
            attempts: row["attempts"], functionErrors: row["function_errors"], nextAttemptAt: row["next_attempt_at"],
            status: row["status"],
            lastError: row["last_error"])
    }
}
