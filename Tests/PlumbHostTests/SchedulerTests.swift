import Foundation
import PlumbHost
import PlumbTesting
import Testing

/// Scheduled runs under an injected clock: on time, once per run, and once after downtime.
@Suite struct SchedulerTests {
    @Test func firesOnTimeAndRunsMissedSchedulesOnceAfterDowntime() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let queue = try AsyncEventQueue(directory: dir.path, durability: .normal)
        let scheduler = Scheduler(
            entries: [
                .init(function: "reports.nightly", schedule: try ScheduleExpression("cron(0 2 * * ? *)")),
                .init(function: "sensors.retrain", schedule: try ScheduleExpression("rate(3 minutes)")),
            ], queue: queue)
        let start: Int64 = 1_795_341_600  // 2026-11-22T10:00:00Z
        var fired: [Int64: [String]] = [:]
        for t in stride(from: start, through: start + 900, by: 1) {
            let names = try await scheduler.tick(now: t)
            if !names.isEmpty { fired[t] = names }
        }
        // rate(3 minutes) on epoch multiples of 180 s after the first sight at 10:00:00: 10:03, 10:06, … 10:15.
        #expect(fired.keys.sorted() == stride(from: start + 180, through: start + 900, by: 180).map { $0 })
        #expect(fired.values.allSatisfy { $0 == ["sensors.retrain"] })
        let events = try queue.due(now: Double(start + 901), limit: 100)
        #expect(events.count == 5)
        let payload = try JSONSerialization.jsonObject(with: Data(events[0].payload)) as? [String: String]
        #expect(payload?["time"] == "2026-11-22T10:03:00Z")
        #expect(payload?["schedule"] == "rate(3 minutes)")

        // Down from 10:15 until 05:00 the next day: the nightly 02:00 run and 250 rate runs were missed; each
        // function runs once at start.
        let back = start + 19 * 3_600
        #expect(try await scheduler.tick(now: back).sorted() == ["reports.nightly", "sensors.retrain"])
        #expect(try await scheduler.tick(now: back + 1).isEmpty)
        let nightly = try queue.due(now: Double(back + 1), limit: 100).filter { $0.function == "reports.nightly" }
        #expect(nightly.count == 1)
        #expect(
            (try JSONSerialization.jsonObject(with: Data(nightly[0].payload)) as? [String: String])?["time"]
                == "2026-11-23T02:00:00Z")
    }
}
