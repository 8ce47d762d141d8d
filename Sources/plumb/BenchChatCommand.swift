import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import PlumbLoad
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
        commandName: "bench-chat", abstract: "Hold WebSocket connections on the chat and measure broadcast fan-out.",
        shouldDisplay: false)

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
        let senderChannel = Mutex<(any Channel)?>(nil)
        let channels = Mutex<[any Channel]>([])
        let errors = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
    }

    static func rss(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "").map {
                $0 * 1_024
            }
        }
        return nil
    }

    func validate() throws {
        guard connections >= 1, members >= 1, members <= connections else {
            throw ValidationError("need 1 ≤ --members ≤ --connections")
        }
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
        guard let parsed = URL(string: url), let host = parsed.host, parsed.scheme == "ws" else {
            throw ValidationError("--url must be ws://HOST:PORT/PATH")
        }
        let port = parsed.port ?? 80
        let path = parsed.path
        let eventLoops = MultiThreadedEventLoopGroup.singleton

        try await withThrowingTaskGroup(of: Void.self) { group in
            var launched = 0
            var lastReport = ContinuousClock.now
            while launched < total {
                // Keep at most connectConcurrency attempts outstanding.
                while launched - shared.connected.load(ordering: .relaxed) - shared.failed.load(ordering: .relaxed)
                    >= connectConcurrency
                {
                    try await Task.sleep(for: .milliseconds(2))
                }
                let index = launched
                launched += 1
                let room = index < members ? "fanout" : "hold-\(index / 10)"
                group.addTask {
                    do {
                        let channel = try await LeanWebSocketClient.connect(
                            host: host, port: port, path: "\(path)?room=\(room)&user=u\(index)", group: eventLoops
                        ) { FrameRecorder(measured: index < members, shared: shared) }
                        if index == 0 { shared.senderChannel.withLock { $0 = channel } }
                        shared.channels.withLock { $0.append(channel) }
                        shared.connected.wrappingAdd(1, ordering: .relaxed)
                    } catch {
                        shared.failed.wrappingAdd(1, ordering: .relaxed)
                        shared.errors.withLock { if $0.count < 5 { $0.append("\(error)") } }
                    }
                }
                if ContinuousClock.now - lastReport > .seconds(2) {
                    lastReport = ContinuousClock.now
                    FileHandle.standardError.write(
                        Data("connected \(shared.connected.load(ordering: .relaxed)) of \(total)\n".utf8))
                }
            }
            while shared.connected.load(ordering: .relaxed) + shared.failed.load(ordering: .relaxed) < total {
                try await Task.sleep(for: .milliseconds(20))
            }
            let connectSeconds = Self.seconds(ContinuousClock.now - started)
            // Let the joins' presence broadcasts settle before measuring.
            try await Task.sleep(for: .seconds(3))
            let rssAfter = serverPid.flatMap(Self.rss)
            FileHandle.standardError.write(
                Data(
                    "connected \(shared.connected.load(ordering: .relaxed)), failed \(shared.failed.load(ordering: .relaxed)) in \(String(format: "%.1f", connectSeconds)) s; sending\n"
                        .utf8))

            guard let sender = shared.senderChannel.withLock({ $0 }) else {
                throw ValidationError("the sending connection did not open: \(shared.errors.withLock { $0 })")
            }
            let count = Int(rate * duration)
            let t0 = DispatchTime.now().uptimeNanoseconds + 100_000_000
            let interval = 1e9 / rate
            var sent = 0
            for seq in 0..<count {
                let intended = t0 + UInt64(Double(seq) * interval)
                let now = DispatchTime.now().uptimeNanoseconds
                if intended > now { try await Task.sleep(for: .nanoseconds(Int64(intended - now))) }
                try await LeanWebSocketClient.sendText(
                    "{\"action\":\"send\",\"text\":\"bench \(seq) \(intended)\"}", on: sender
                ).get()
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
            var result = Result(
                connectionsRequested: total, connectionsOpen: shared.connected.load(ordering: .relaxed),
                connectionsFailed: shared.failed.load(ordering: .relaxed), connectSeconds: connectSeconds,
                roomMembers: members,
                messagesSent: sent, ratePerSecond: rate, deliveriesExpected: expected,
                deliveriesReceived: shared.received.load(ordering: .relaxed),
                fanoutMs: [
                    "p50": percentile(0.5), "p90": percentile(0.9), "p99": percentile(0.99), "max": percentile(1.0),
                ])
            if let before = rssBefore, let after = rssAfter {
                result.serverRSSBeforeMB = Double(before) / 1_048_576
                result.serverRSSConnectedMB = Double(after) / 1_048_576
                result.serverBytesPerConnection = (after - before) / max(1, shared.connected.load(ordering: .relaxed))
            }
            let errors = shared.errors.withLock { $0 }
            if !errors.isEmpty { result.firstErrors = errors }
            try BenchOutput.print(result, pretty: true)
            for channel in shared.channels.withLock({ $0 }) { channel.close(promise: nil) }
            group.cancelAll()
        }
    }

    struct Result: Encodable {
        var connectionsRequested: Int
        var connectionsOpen: Int
        var connectionsFailed: Int
        var connectSeconds: Double
        var roomMembers: Int
        var messagesSent: Int
        var ratePerSecond: Double
        var deliveriesExpected: Int
        var deliveriesReceived: Int
        var fanoutMs: [String: Double]
        var serverRSSBeforeMB: Double?
        var serverRSSConnectedMB: Double?
        var serverBytesPerConnection: Int?
        var firstErrors: [String]?

        enum CodingKeys: String, CodingKey {
            case connectionsRequested = "connections_requested"
            case connectionsOpen = "connections_open"
            case connectionsFailed = "connections_failed"
            case connectSeconds = "connect_seconds"
            case roomMembers = "room_members"
            case messagesSent = "messages_sent"
            case ratePerSecond = "rate_per_second"
            case deliveriesExpected = "deliveries_expected"
            case deliveriesReceived = "deliveries_received"
            case fanoutMs = "fanout_ms"
            case serverRSSBeforeMB = "server_rss_before_mb"
            case serverRSSConnectedMB = "server_rss_connected_mb"
            case serverBytesPerConnection = "server_bytes_per_connection"
            case firstErrors = "first_errors"
        }
    }

    /// Records the latency of every `bench` message a measured member receives, on the event loop.
    final class FrameRecorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let measured: Bool
        let shared: Shared
        static let marker = Array("\"text\":\"bench ".utf8)

        /// Offset of `needle` in `haystack` (a plain scan on the first byte, then a compare).
        static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
            guard needle.count <= haystack.count, let first = needle.first else { return nil }
            var i = 0
            let last = haystack.count - needle.count
            while i <= last {
                if haystack[i] == first {
                    var j = 1
                    while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }

        init(measured: Bool, shared: Shared) {
            self.measured = measured
            self.shared = shared
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text where measured:
                let now = DispatchTime.now().uptimeNanoseconds
                // "bench <seq> <intended>\"": the number after the last space before the closing quote.
                let parsed: (Bool, UInt64) = frame.data.withUnsafeReadableBytes { raw in
                    guard let start = Self.find(Self.marker, in: raw) else { return (false, 0) }
                    var i = start + Self.marker.count
                    var intended: UInt64 = 0
                    var sawSpace = false
                    while i < raw.count, raw[i] != UInt8(ascii: "\"") {
                        let byte = raw[i]
                        if byte == UInt8(ascii: " ") {
                            sawSpace = true
                            intended = 0
                        } else if sawSpace, byte >= 48, byte <= 57 {
                            intended = intended &* 10 &+ UInt64(byte - 48)
                        }
                        i += 1
                    }
                    return (sawSpace, intended)
                }
                let (sawSpace, intended) = parsed
                guard sawSpace, intended > 0 else { return }
                shared.received.wrappingAdd(1, ordering: .relaxed)
                shared.latencies.withLock { $0.append(now > intended ? now - intended : 0) }
            case .ping:
                let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
