import Foundation
import PlumbTesting
import Synchronization
import Testing

/// A real `plumb serve` is SIGKILLed while a writer streams line-protocol batches; after a restart every
/// batch that was answered 2xx is queryable in full, and every other batch is either wholly there or absent.
@Suite("Crash recovery")
struct CrashRecoveryTests {
    static let linesPerBatch = 50

    /// `full` syncs the journal before each acknowledgement; `normal` hands it to the kernel only, which a killed
    /// process cannot lose either (a power cut could).
    @Test("every acknowledged datapoint survives kill -9", arguments: ["full", "normal"])
    func killNine(durability: String) async throws {
        let root = TemporaryDirectory("plumb-crash")
        defer { root.remove() }
        let data = root.path + "/data"
        let config = root.path + "/plumb.yaml"
        try "durability: \(durability)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let first = try ServerProcess(dataDirectory: data, extraArguments: ["--config", config])
        try await first.waitReady()
        let token = first.token
        let now = Int64(Date().timeIntervalSince1970)
        let url = first.baseURL + "/write?precision=s"

        // Four writers stream batches; the server is killed while they are mid-stream, once at least 30 batches were
        // acknowledged (a fixed delay is too short when the machine is busy with the rest of the suite).
        let ackCount = Counter()
        let acked = try await withThrowingTaskGroup(of: [Int].self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var mine: [Int] = []
                    for n in 0..<1_000 {
                        let batch = writer * 1_000 + n
                        let body = (0..<Self.linesPerBatch).map { i in "crash,batch=\(batch) v=\(i) \(now - Int64(i))" }
                            .joined(separator: "\n")
                        guard
                            let (status, _) = try? await HTTP.request(
                                "POST", url, body: Array(body.utf8), token: token, timeout: 10)
                        else { break }
                        if status == 204 {
                            mine.append(batch)
                            ackCount.add()
                        }
                    }
                    return mine
                }
            }
            group.addTask {
                // A writer gives up on a request after 10 s (an fsync on a disk the whole suite shares can take
                // seconds), so the wait for 30 acknowledgements is long enough for several of those.
                let deadline = ContinuousClock.now + .seconds(60)
                while ackCount.value < 30 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(300))
                first.kill(signal: SIGKILL)
                return []
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(acked.count > 20, "the writers got batches in before the kill (\(acked.count))")

        let second = try ServerProcess(dataDirectory: data, extraArguments: ["--config", config])
        defer { second.kill(signal: SIGTERM) }
        try await second.waitReady()
        let (_, listBody) = try await HTTP.request(
            "GET", second.baseURL + "/api/v1/metrics?namespace=crash", token: token)
        let list = try JSONSerialization.jsonObject(with: Data(listBody)) as? [String: Any]
        let stored = Set(
            ((list?["metrics"] as? [[String: Any]]) ?? []).compactMap {
                ($0["dimensions"] as? [String: String])?["batch"].flatMap(Int.init)
            })
        #expect(
            Set(acked).isSubset(of: stored),
            "missing acknowledged batches: \(Set(acked).subtracting(stored).sorted().prefix(10))")
        // Every stored batch, acknowledged or not, is whole: 50 samples.
        var partial: [Int] = []
        for batch in stored.sorted() {
            let query =
                "/api/v1/metrics/statistics?namespace=crash&name=v&dimensions=batch=\(batch)&statistics=SampleCount&period=3600&start=\(now - 7_200)&end=\(now + 60)"
            let (status, body) = try await HTTP.request("GET", second.baseURL + query, token: token)
            let points =
                (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["datapoints"]
                as? [[String: Any]] ?? []
            let count = points.reduce(0.0) { $0 + ($1["SampleCount"] as? Double ?? 0) }
            if status != 200 || Int(count) != Self.linesPerBatch { partial.append(batch) }
        }
        #expect(partial.isEmpty, "batches stored in part: \(partial.prefix(10))")
        print(
            "crash test (durability \(durability)): \(acked.count) batches acknowledged before SIGKILL, \(stored.count) stored after restart, all whole"
        )
    }
}

/// A thread-safe count.
final class Counter: Sendable {
    private let state = Mutex(0)
    func add() { state.withLock { $0 += 1 } }
    var value: Int { state.withLock { $0 } }
}
