import Foundation
import Logging
import PlumbLogs
import PlumbPostgres
import PostgresNIO

/// `plumb bench-logs --postgres URL`: the log store on PostgreSQL against PostgreSQL itself on the same events. The
/// peer is the bare ceiling: the same rows inserted in the same batches (one `unnest` statement per batch) into a
/// table with the same indexes, by the same client, without Plumb's work (validation, the id counter, groups and
/// streams, metric filters). Then the three searches over the stored events.
struct PostgresLogBench {
    let url: String
    let events: Int

    struct Result: Encodable {
        struct Put: Encodable {
            var events: Int
            var seconds: Double
            var eventsPerSecond: Double
        }
        var plumbPut: Put
        var barePut: Put
        /// Plumb's ingest over the bare insert's.
        var ingestRatio: Double
        var search: [String: BenchLogsCommand.Result.Search]
    }

    func run() async throws -> Result {
        do {
            return try await measure()
        } catch {
            throw CLIError("bench-logs --postgres: \(describePostgresError(error))")
        }
    }

    func measure() async throws -> Result {
        let settings = try PostgresSettings(url: url)
        let database = try PostgresStore(settings: settings, maximumConnections: 4)
        try await database.probe()
        database.start()
        defer { database.stop() }
        let logger = Logger(label: "plumb.bench")
        // A clean slate each run: the bench owns these tables.
        try await database.run { connection in
            for table in [
                "log_events", "log_streams", "log_groups", "log_ids", "log_metric_filters", "bench_bare_events",
            ] {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(table) CASCADE"), logger: logger)
            }
            try await connection.query(
                """
                DO $$ BEGIN
                    IF to_regclass('plumb_schema') IS NOT NULL THEN DELETE FROM plumb_schema WHERE area = 'logs'; END IF;
                END $$
                """, logger: logger)
        }
        let store = try await PostgresLogStore.open(database: database)
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        func batches(_ line: (Int, Int) -> String) -> [[InputLogEvent]] {
            stride(from: 0, to: events, by: 1_000).map { start in
                (start..<min(start + 1_000, events)).map { n in
                    InputLogEvent(timestamp: now - Int64(events - n), message: line(n, n % 100 == 0 ? 500 : 200))
                }
            }
        }
        let access = batches(BenchLogsCommand.accessLine)

        var started = ContinuousClock.now
        for (i, batch) in access.enumerated() {
            _ = try await store.put(group: "/bench/access", stream: "web-\(i / 100)", events: batch)
        }
        let plumbSeconds = BenchLogsCommand.seconds(ContinuousClock.now - started)

        try await database.run { connection in
            try await connection.query(
                """
                CREATE TABLE bench_bare_events (id bigint PRIMARY KEY, group_id bigint NOT NULL, stream text NOT NULL,
                    ts bigint NOT NULL, ingested bigint NOT NULL, message text NOT NULL)
                """, logger: logger)
            try await connection.query(
                "CREATE INDEX bench_bare_by_time ON bench_bare_events (group_id, ts, id)", logger: logger)
            try await connection.query(
                "CREATE INDEX bench_bare_by_id ON bench_bare_events (group_id, id)", logger: logger)
        }
        started = ContinuousClock.now
        var next: Int64 = 1
        for (i, batch) in access.enumerated() {
            let ids = (0..<Int64(batch.count)).map { next + $0 }
            next += Int64(batch.count)
            let stream = "web-\(i / 100)"
            try await database.run { connection in
                try await connection.query(
                    """
                    INSERT INTO bench_bare_events (id, group_id, stream, ts, ingested, message)
                    SELECT i, 1, \(stream), t, \(now), m
                    FROM unnest(\(ids)::bigint[], \(batch.map(\.timestamp))::bigint[], \(batch.map(\.message))::text[])
                        AS e (i, t, m)
                    """, logger: logger)
            }
        }
        let bareSeconds = BenchLogsCommand.seconds(ContinuousClock.now - started)

        for batch in batches(BenchLogsCommand.jsonLine) {
            _ = try await store.put(group: "/bench/json", stream: "web", events: batch)
        }
        let searches = try await BenchLogsCommand.searchAll(store, events: events)
        return Result(
            plumbPut: .init(events: events, seconds: plumbSeconds, eventsPerSecond: Double(events) / plumbSeconds),
            barePut: .init(events: events, seconds: bareSeconds, eventsPerSecond: Double(events) / bareSeconds),
            ingestRatio: bareSeconds / plumbSeconds, search: searches)
    }
}
