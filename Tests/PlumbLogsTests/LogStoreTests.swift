import Foundation
import PlumbLogs
import PlumbTesting
import Testing

@Suite struct LogStoreTests {
    static let now: Int64 = 1_800_000_000_000

    static func store(_ dir: TemporaryDirectory) throws -> LogStore {
        try LogStore(directory: dir.path, durability: .normal, clock: { now })
    }

    @Test func searchFiltersPagesAndOrders() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.store(dir)
        for s in 0..<3 {
            let events = (0..<500).map { i in
                InputLogEvent(
                    timestamp: Self.now - 600_000 + Int64(i * 1_000 + s),
                    message: i % 10 == 0 ? "ERROR job \(i) failed on s\(s)" : "INFO job \(i) ok")
            }
            try store.put(group: "/plumb/test", stream: "worker-\(s)", events: events)
        }
        try store.put(
            group: "/plumb/test", stream: "api",
            events: [InputLogEvent(timestamp: Self.now - 1, message: "ERROR from api")])
        // 3 streams × 50 ERROR lines + 1.
        var all: [LogEvent] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try store.filter(
                LogQuery(group: "/plumb/test", pattern: try FilterPattern("ERROR"), limit: 40, token: token))
            all += page.events
            token = page.nextToken
            pages += 1
        } while token != nil
        #expect(all.count == 151)
        #expect(pages == 4)
        #expect(Set(all.map(\.id)).count == 151, "no event twice across pages")
        #expect(zip(all, all.dropFirst()).allSatisfy { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) })

        let prefixed = try store.filter(
            LogQuery(group: "/plumb/test", pattern: try FilterPattern("ERROR"), streamPrefix: "worker-1", limit: 1_000))
        #expect(prefixed.events.count == 50 && prefixed.events.allSatisfy { $0.stream == "worker-1" })

        let newest = try store.filter(LogQuery(group: "/plumb/test", limit: 2, descending: true))
        #expect(newest.events.map(\.message) == ["ERROR from api", "INFO job 499 ok"])

        let window = try store.filter(
            LogQuery(group: "/plumb/test", start: Self.now - 600_000, end: Self.now - 590_000, limit: 1_000))
        #expect(window.events.count == 30)

        #expect(try store.streams(group: "/plumb/test").map(\.name) == ["api", "worker-0", "worker-1", "worker-2"])
        #expect(try store.groups().first?.storedEvents == 1_501)
        #expect(throws: LogsError.self) { try store.filter(LogQuery(group: "/nope")) }
        #expect(throws: LogsError.self) { try store.filter(LogQuery(group: "/plumb/test", token: "garbage")) }
    }

    @Test func batchesAreCheckedAsPutLogEventsDoes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try Self.store(dir)
        func refused(_ events: [InputLogEvent], group: String = "/g", stream: String = "s") -> LogsError? {
            do {
                try store.put(group: group, stream: stream, events: events)
                return nil
            } catch { return error as? LogsError }
        }
        let big = String(repeating: "x", count: 256 * 1_024)
        #expect(refused([InputLogEvent(timestamp: Self.now, message: big)])?.status == 413)
        let quarter = String(repeating: "y", count: 200 * 1_024)
        #expect(refused((0..<6).map { _ in InputLogEvent(timestamp: Self.now, message: quarter) })?.status == 413)
        #expect(refused([InputLogEvent(timestamp: Self.now, message: "")])?.status == 400)
        #expect(
            refused([InputLogEvent(timestamp: Self.now - 15 * 86_400_000, message: "old")])?.message.contains("14 days")
                == true)
        #expect(
            refused([InputLogEvent(timestamp: Self.now + 3 * 3_600_000, message: "future")])?.message.contains("future")
                == true)
        #expect(refused([InputLogEvent(timestamp: Self.now, message: "x")], group: "bad group") != nil)
        #expect(refused([InputLogEvent(timestamp: Self.now, message: "x")], stream: "a:b") != nil)
        #expect(refused([]) != nil)
        #expect(try store.groups().isEmpty, "nothing refused was stored")
    }
}

@Suite struct LogHandlerTests {
    @Test func eventsAreValidJSONWithEscapes() async throws {
        let sink = LogSink(capacity: 10)
        let handler = PlumbLogHandler(label: "plumb.plugins.sentiment.worker", sink: sink, stream: "host")
        handler.log(
            level: .error, message: "quote \" backslash \\ newline \n tab \t bell \u{07} ünï",
            metadata: ["k": "v", "list": ["a", "b"], "map": ["z": "1", "a": "2"]],
            source: "Test", file: "f.swift", function: "fn", line: 7)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try LogStoreTests.store(dir)
        sink.attach(store)
        try await sink.flush()
        let event = try #require(try store.filter(LogQuery(group: "/plumb/plugins/sentiment", limit: 10)).events.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.message.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{07} ünï")
        #expect(object["level"] as? String == "ERROR")
        #expect(object["code"] as? String == "f.swift:7")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["list"] as? [String] == ["a", "b"])
        #expect((metadata["map"] as? [String: String])?["a"] == "2")
        #expect(try FilterPattern(#"{ $.level = "ERROR" && $.metadata.k = "v" }"#).matches(event.message))
    }

    @Test func aFullQueueDropsAndCounts() {
        let sink = LogSink(capacity: 3)
        let handler = PlumbLogHandler(label: "plumb.server", sink: sink, stream: "h")
        for i in 0..<5 {
            handler.log(level: .info, message: "\(i)", metadata: nil, source: "T", file: "f", function: "g", line: 1)
        }
        #expect(sink.queuedCount == 3)
        #expect(sink.droppedCount == 2)
    }
}
