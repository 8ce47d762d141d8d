import ArgumentParser
import Foundation
import Logging
import PlumbLogs

/// `plumb bench-logs`: log ingest through the swift-log handler and through batched puts (the HTTP API's store
/// path), then search speed over the stored events.
struct BenchLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-logs",
        abstract: "Benchmark the log store: ingest through the log handler and in API-sized batches, then search.",
        shouldDisplay: false)

    @Option(help: "Events to store through batched puts (1,000 per batch, like POST /api/v1/logs).") var events =
        1_000_000
    @Option(help: "Events to log through the swift-log handler.") var handlerEvents = 200_000
    @Option(help: "Data directory (default: a temporary one, removed afterwards).") var data: String?
    @Option(
        help: """
            Instead, measure the log store on this PostgreSQL (postgres://user:password@host:port/db) against bare \
            inserts of the same events; it drops and recreates the log tables of that database.
            """) var postgres: String?

    func run() async throws {
        if let postgres {
            return try BenchOutput.print(try await PostgresLogBench(url: postgres, events: events).run(), pretty: true)
        }
        let directory = data ?? NSTemporaryDirectory() + "plumb-bench-logs-\(UUID().uuidString)"
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try LogStore(directory: directory, durability: .full)
        let now = Int64(Date().timeIntervalSince1970 * 1_000)

        // 1. Batched puts: 1,000 events per batch, each committed (fsync) before the next; event n of `events` gets
        // the message `line(n, status)`, status 500 for every hundredth.
        func putAll(group: String, _ line: (Int, Int) -> String) throws {
            var stored = 0
            while stored < events {
                let batch = (stored..<min(stored + 1_000, events)).map { n in
                    InputLogEvent(timestamp: now - Int64(events - n), message: line(n, n % 100 == 0 ? 500 : 200))
                }
                try store.put(group: group, stream: "web-\(stored / 100_000)", events: batch)
                stored += batch.count
            }
        }
        var started = ContinuousClock.now
        try putAll(group: "/bench/access", Self.accessLine)
        let putSeconds = Self.seconds(ContinuousClock.now - started)
        // The same events as JSON objects, for the JSON pattern (not timed: the put above is the ingest figure).
        try putAll(group: "/bench/json", Self.jsonLine)

        // 2. The swift-log handler: as fast as one task can log, with the sink flushing every 200 ms.
        let sink = LogSink()
        sink.attach(store)
        let flusher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                _ = try? await sink.flush()
            }
        }
        let handler = PlumbLogHandler(label: "plumb.bench", sink: sink)
        started = ContinuousClock.now
        for i in 0..<handlerEvents {
            handler.log(
                level: .info, message: "request \(i) served", metadata: ["status": "200"], source: "bench",
                file: #fileID, function: #function, line: #line)
        }
        let logSeconds = Self.seconds(ContinuousClock.now - started)
        flusher.cancel()
        _ = try await sink.flush()
        let handlerStored = handlerEvents - sink.droppedCount

        // 3. Search: every stored access line scanned with a term and a space-delimited pattern, every JSON event with
        // a JSON pattern; first in the table, where events land, then once they are all sealed into blocks.
        let tableSearches = try await Self.searchAll(store, events: events)

        // 4. Sealing everything, then the same searches over the blocks.
        started = ContinuousClock.now
        let sealed = try store.seal(sealAfter: 0)
        let sealSeconds = Self.seconds(ContinuousClock.now - started)
        let blockSearches = try await Self.searchAll(store, events: events)

        // 5. Sizes: the access lines as text, their blocks, and the database's pages in use (bench/logs.sh sets
        // `gzip -6` of the same lines beside them).
        let lineBytes = (0..<events).reduce(0) { $0 + Self.accessLine($1, $1 % 100 == 0 ? 500 : 200).utf8.count + 1 }
        let blockBytes = try store.groups(prefix: "/bench/access").first?.archiveCompressedBytes ?? 0
        let usedBytes = try store.bytesInUse()
        let stored = try await store.groups().reduce(0) { $0 + $1.storedEvents }
        let result = Result(
            batchedPut: .init(events: events, seconds: putSeconds, eventsPerSecond: Double(events) / putSeconds),
            handler: .init(
                logged: handlerEvents, stored: handlerStored, dropped: sink.droppedCount,
                logCallsPerSecond: Double(handlerEvents) / logSeconds),
            search: tableSearches, searchSealed: blockSearches,
            seal: .init(
                events: sealed.events, seconds: sealSeconds, eventsPerSecond: Double(sealed.events) / sealSeconds,
                compressionRatio: sealed.compressionRatio),
            storage: .init(
                lineBytesPerEvent: Double(lineBytes) / Double(events),
                blockBytesPerEvent: Double(blockBytes) / Double(events),
                databaseBytesPerEvent: Double(usedBytes) / Double(stored), storedEvents: stored),
            bytesOnDisk: (try? FileManager.default.attributesOfItem(atPath: directory + "/logs.sqlite")[.size] as? Int)
                ?? 0)
        try BenchOutput.print(result, pretty: true)
    }

    struct Result: Encodable {
        struct Put: Encodable {
            var events: Int
            var seconds: Double
            var eventsPerSecond: Double
            enum CodingKeys: String, CodingKey {
                case events, seconds
                case eventsPerSecond = "events_per_second"
            }
        }
        struct Handler: Encodable {
            var logged: Int
            var stored: Int
            var dropped: Int
            var logCallsPerSecond: Double
            enum CodingKeys: String, CodingKey {
                case logged, stored, dropped
                case logCallsPerSecond = "log_calls_per_second"
            }
        }
        struct Search: Encodable {
            var pattern: String
            var eventsExamined: Int
            var rowsRead: Int
            var matched: Int
            var seconds: Double
            var eventsExaminedPerSecond: Double
            enum CodingKeys: String, CodingKey {
                case pattern, matched, seconds
                case eventsExamined = "events_examined"
                case rowsRead = "rows_read"
                case eventsExaminedPerSecond = "events_examined_per_second"
            }
        }
        struct Seal: Encodable {
            var events: Int
            var seconds: Double
            var eventsPerSecond: Double
            var compressionRatio: Double
            enum CodingKeys: String, CodingKey {
                case events, seconds
                case eventsPerSecond = "events_per_second"
                case compressionRatio = "compression_ratio"
            }
        }
        struct Storage: Encodable {
            var lineBytesPerEvent: Double
            var blockBytesPerEvent: Double
            var databaseBytesPerEvent: Double
            var storedEvents: Int
            enum CodingKeys: String, CodingKey {
                case lineBytesPerEvent = "access_line_bytes_per_event"
                case blockBytesPerEvent = "access_block_bytes_per_event"
                case databaseBytesPerEvent = "database_bytes_per_stored_event"
                case storedEvents = "stored_events"
            }
        }
        var batchedPut: Put
        var handler: Handler
        /// Searches while the events are in the table.
        var search: [String: Search]
        /// The same searches once every event is sealed.
        var searchSealed: [String: Search]
        var seal: Seal
        var storage: Storage
        var bytesOnDisk: Int
        enum CodingKeys: String, CodingKey {
            case handler, search, seal, storage
            case searchSealed = "search_sealed"
            case batchedPut = "batched_put"
            case bytesOnDisk = "bytes_on_disk"
        }
    }

    /// Access line `n` (the same as bench/logs.sh writes for grep and gzip).
    /// The three searches: a term and a space-delimited pattern over the access lines, a JSON pattern over the JSON
    /// events.
    static let searches = [
        ("term", "/bench/access", "\" 500 \""),
        ("delimited", "/bench/access", "[ip, user, username, timestamp, request, status = 5*, bytes]"),
        ("json", "/bench/json", "{ $.status = 500 }"),
    ]

    /// The three searches over `store`, each paging through all of its group. Every one of the `events` stored lines
    /// is examined (in SQLite for terms in the embedded store's table, by the byte matchers otherwise).
    static func searchAll(_ store: any LogStoring, events: Int) async throws -> [String: Result.Search] {
        var found: [String: Result.Search] = [:]
        for (name, group, text) in searches {
            let pattern = try FilterPattern(text)
            let started = ContinuousClock.now
            var read = 0
            var matched = 0
            var token: String?
            repeat {
                let page = try await store.filter(LogQuery(group: group, pattern: pattern, limit: 10_000, token: token))
                read += page.scanned
                matched += page.events.count
                token = page.nextToken
            } while token != nil
            let s = seconds(ContinuousClock.now - started)
            found[name] = Result.Search(
                pattern: text, eventsExamined: events, rowsRead: read, matched: matched, seconds: s,
                eventsExaminedPerSecond: Double(events) / s)
        }
        return found
    }

    /// Event n as a JSON object.
    static func jsonLine(_ n: Int, _ status: Int) -> String {
        "{\"ip\":\"10.0.\(n % 256).\(n % 7)\",\"user\":\"user\(n % 50)\",\"method\":\"GET\",\"path\":\"/item/\(n)\",\"status\":\(status),\"bytes\":\(n % 5_000)}"
    }

    static func accessLine(_ n: Int, _ status: Int) -> String {
        "10.0.\(n % 256).\(n % 7) - user\(n % 50) [22/Nov/2026:10:00:00 +0000] \"GET /item/\(n) HTTP/1.1\" \(status) \(n % 5_000)"
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
