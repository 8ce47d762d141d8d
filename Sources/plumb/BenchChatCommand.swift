import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import Synchronization

/// `plumb bench-chat`: holds many WebSocket connections on a running server's chat and measures fan-out.
///
/// Opens `--connections` connections: `--members` of them join the room `fanout`, the rest rooms of ten. Member 0
/// then sends `--rate` messages a second for `--duration` seconds (an open model: each message has an intended send
/// time, and latency is counted from it, so a stalled sender cannot hide delay). Every member records the time from
/// the intended send to the broadcast's arrival. With `--server-pid` it reads the server's resident memory before
/// and after connecting, for memory per connection.
struct BenchChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-chat", abstract: "Hold WebSocket connections on the chat and measure broadcast fan-out.", shouldDisplay: false)

    @Option(help: "WebSocket URL of the chat endpoint.") var url = "ws://127.0.0.1:9400/apps/chat/ws"
    @Option(help: "Connections to hold.") var connections = 10_000
    @Option(help: "Of them, members of the measured room.") var members = 1_000
    @Option(help: "Messages per second sent to the measured room.") var rate = 100.0
    @Option(help: "Seconds of sending.") var duration = 20.0
    @Option(help: "Connection attempts in flight at once.") var connectConcurrency = 200
    @Option(help: "PID of the server, for its resident memory.") var serverPid: Int32?

    final class Shared: Sendable {
        let connected = Atomic<Int>(0)
        let failed = Atomic<Int>(0)
        let received = Atomic<Int>(0)
        let latencies = Mutex<[UInt64]>([])
        let sender = Mutex<WebSocketOutboundWriter?>(nil)
        let errors = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
    }

    static func rss(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "").map { $0 * 1_024 }
        }
        return nil
    }

    func validate() throws {
        guard connections >= 1, members >= 1, members <= connections else { throw ValidationError("need 1 ≤ --members ≤ --connections") }
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be positive") }
    }

    func run() async throws {
        var quiet = Logger(label: "plumb.bench-chat")
        quiet.logLevel = .critical
        let logger = quiet
        let shared = Shared()
        let rssBefore = serverPid.flatMap(Self.rss)
        let started = ContinuousClock.now
        let members = self.members
        let total = connections
        let baseURL = url

        try await withThrowingTaskGroup(of: Void.self) { group in
            var launched = 0
            var lastReport = ContinuousClock.now
            while launched < total {
                // Keep at most connectConcurrency attempts outstanding.
                while launched - shared.connected.load(ordering: .relaxed) - shared.failed.load(ordering: .relaxed) >= connectConcurrency {
                    try await Task.sleep(for: .milliseconds(2))
                }
                let index = launched
                launched += 1
                let room = index < members ? "fanout" : "hold-\(index / 10)"
                group.addTask {
                    do {
                        try await WebSocketClient.connect(
                            url: "\(baseURL)?room=\(room)&user=u\(index)", configuration: .init(maxFrameSize: 1 << 16), logger: logger
                        ) { inbound, outbound, _ in
                            if index == 0 { shared.sender.withLock { $0 = outbound } }
                            shared.connected.wrappingAdd(1, ordering: .relaxed)
                            for try await message in inbound.messages(maxSize: 1 << 20) {
                                guard case .text(let text) = message, index < members else { continue }
                                guard let marker = text.range(of: "\"text\":\"bench ") else { continue }
                                let now = DispatchTime.now().uptimeNanoseconds
                                let rest = text[marker.upperBound...].prefix { $0 != "\"" }
                                guard let intended = UInt64(rest.split(separator: " ").last ?? "") else { continue }
                                shared.received.wrappingAdd(1, ordering: .relaxed)
                                shared.latencies.withLock { $0.append(now > intended ? now - intended : 0) }
                            }
                        }
                    } catch {
                        shared.failed.wrappingAdd(1, ordering: .relaxed)
                        shared.errors.withLock { if $0.count < 5 { $0.append("\(error)") } }
                    }
                }
                if ContinuousClock.now - lastReport > .seconds(2) {
                    lastReport = ContinuousClock.now
                    FileHandle.standardError.write(Data("connected \(shared.connected.load(ordering: .relaxed)) of \(total)\n".utf8))
                }
            }
            while shared.connected.load(ordering: .relaxed) + shared.failed.load(ordering: .relaxed) < total {
                try await Task.sleep(for: .milliseconds(20))
            }
            let connectSeconds = Self.seconds(ContinuousClock.now - started)
            // Let the joins' presence broadcasts settle before measuring.
            try await Task.sleep(for: .seconds(3))
            let rssAfter = serverPid.flatMap(Self.rss)
            FileHandle.standardError.write(Data("connected \(shared.connected.load(ordering: .relaxed)), failed \(shared.failed.load(ordering: .relaxed)) in \(String(format: "%.1f", connectSeconds)) s; sending\n".utf8))

            guard let sender = shared.sender.withLock({ $0 }) else { throw ValidationError("the sending connection did not open: \(shared.errors.withLock { $0 })") }
            let count = Int(rate * duration)
            let t0 = DispatchTime.now().uptimeNanoseconds + 100_000_000
            let interval = 1e9 / rate
            var sent = 0
            for seq in 0..<count {
                let intended = t0 + UInt64(Double(seq) * interval)
                let now = DispatchTime.now().uptimeNanoseconds
                if intended > now { try await Task.sleep(for: .nanoseconds(Int64(intended - now))) }
                try await sender.write(.text("{\"action\":\"send\",\"text\":\"bench \(seq) \(intended)\"}"))
                sent += 1
            }
            // Drain: wait until every member has every message, or 10 s.
            let expected = sent * members
            let drainDeadline = ContinuousClock.now + .seconds(10)
            while shared.received.load(ordering: .relaxed) < expected && ContinuousClock.now < drainDeadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let latencies = shared.latencies.withLock { $0 }.sorted()
            func percentile(_ p: Double) -> Double {
                guard !latencies.isEmpty else { return 0 }
                return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
            }
            var result: [String: Any] = [
                "connections_requested": total, "connections_open": shared.connected.load(ordering: .relaxed),
                "connections_failed": shared.failed.load(ordering: .relaxed), "connect_seconds": connectSeconds,
                "room_members": members, "messages_sent": sent, "rate_per_second": rate,
                "deliveries_expected": expected, "deliveries_received": shared.received.load(ordering: .relaxed),
                "fanout_ms": ["p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": percentile(1.0)],
            ]
            if let before = rssBefore, let after = rssAfter {
                result["server_rss_before_mb"] = Double(before) / 1_048_576
                result["server_rss_connected_mb"] = Double(after) / 1_048_576
                result["server_bytes_per_connection"] = (after - before) / max(1, shared.connected.load(ordering: .relaxed))
            }
            let errors = shared.errors.withLock { $0 }
            if !errors.isEmpty { result["first_errors"] = errors }
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            group.cancelAll()
        }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}
