import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// The chat path: `clients` WebSocket clients in rooms of `roomSize`, each sending `perClient` messages a second on
/// an open schedule (phases spread). Every message carries its sender and intended and actual send times; each
/// other member of the room records the delay to its receipt, so one message gives roomSize − 1 latencies and the
/// server's fan-out is what is measured. Messages a member never receives are unfinished.
public enum ChatDriver {
    public struct Options: Sendable {
        public var clients: Int
        public var roomSize: Int
        public var perClient: Double
        public var path = "/apps/chat/ws"
        public init(clients: Int, roomSize: Int, perClient: Double) {
            self.clients = clients
            self.roomSize = roomSize
            self.perClient = perClient
        }
    }

    public static func run(
        _ plan: RunPlan, options: Options, progress: (@Sendable (LoadProgress) -> Void)? = nil
    ) async throws -> RunResult {
        let recorders = LoopRecorders(group: Runner.group)
        // Connect first, then start the clock: the schedule starts once everyone is in.
        var clients: [ChatClient] = []
        let runID = UInt64.random(in: 1...UInt64(UInt32.max))
        let shared = ChatShared()
        for i in 0..<options.clients {
            let room = "load-\(runID)-\(i / options.roomSize)"
            let loop = Runner.group.next()
            let client = ChatClient(index: i, loop: loop, box: recorders.box(for: loop), shared: shared)
            do {
                client.channel = try await LeanWebSocketClient.connect(
                    host: plan.target.host, port: plan.target.port, path: "\(options.path)?room=\(room)&user=load\(i)",
                    group: loop
                ) { ChatFrameHandler(client: client) }
            } catch {
                throw LoadError("client \(i) could not join \(room): \(error)")
            }
            clients.append(client)
        }
        // Let the joins' presence messages settle.
        try await Task.sleep(for: .seconds(1))
        let clock = RunClock(plan: plan, delay: 0.2)
        shared.clock.withLock { $0 = clock }
        let period = 1 / options.perClient
        for client in clients {
            let phase = Double(client.index) / Double(options.clients) * period
            client.loop.execute { client.start(clock: clock, phase: phase, period: period) }
        }
        // Deliveries expected per client's message: the other members of its room (the last room may be smaller).
        let joined = clients
        let others = joined.map { c in
            min(options.roomSize, options.clients - (c.index / options.roomSize) * options.roomSize) - 1
        }
        @Sendable func expected() -> Int {
            joined.enumerated().reduce(0) { $0 + $1.element.measuredSent.load(ordering: .relaxed) * others[$1.offset] }
        }
        var (stats, seconds) = try await Runner.run(
            plan: plan, clock: clock, recorders: recorders,
            finished: { RunClock.now() > clock.end && shared.received.load(ordering: .relaxed) >= expected() },
            progress: progress, abandon: { 0 })
        stats.unfinished = max(0, expected() - stats.completed)
        for client in clients { client.channel?.close(promise: nil) }
        return RunResult(stats: stats, seconds: seconds, connections: options.clients)
    }
}

final class ChatShared: Sendable {
    let clock = Mutex<RunClock?>(nil)
    let received = Atomic<Int>(0)
}

final class ChatClient: @unchecked Sendable {
    let index: Int
    let loop: any EventLoop
    let box: LoopRecorders.Box
    let shared: ChatShared
    let measuredSent = Atomic<Int>(0)
    var channel: (any Channel)?
    var k = 0

    init(index: Int, loop: any EventLoop, box: LoopRecorders.Box, shared: ChatShared) {
        self.index = index
        self.loop = loop
        self.box = box
        self.shared = shared
    }

    func start(clock: RunClock, phase: Double, period: Double) {
        func tick() {
            guard let channel else { return }
            let intended = clock.at(phase + Double(k) * period)
            if intended >= clock.end { return }
            let now = RunClock.now()
            if intended > now {
                _ = loop.scheduleTask(deadline: .uptimeNanoseconds(intended)) { tick() }
                return
            }
            // The marker members look for: ⟦lt sender intended sent⟧.
            let text = "{\"action\":\"send\",\"text\":\"lt \(index) \(intended) \(now) how is everyone doing today\"}"
            let frame = WebSocketFrame(
                fin: true, opcode: .text, maskKey: .random(), data: channel.allocator.buffer(string: text))
            channel.writeAndFlush(frame, promise: nil)
            box.stats.bytesSent += text.utf8.count
            if clock.measured(intended) { measuredSent.wrappingAdd(1, ordering: .relaxed) }
            k += 1
            tick()
        }
        tick()
    }

    static let marker = Array("\"lt ".utf8)

    func received(_ data: ByteBuffer) {
        box.stats.bytesReceived += data.readableBytes
        guard let clock = shared.clock.withLock({ $0 }) else { return }
        let view = data.readableBytesView
        guard let marker = view.find(Self.marker) else { return }
        var numbers: [UInt64] = []
        var value: UInt64 = 0
        var digits = 0
        var i = marker.upperBound
        while i < view.endIndex, numbers.count < 3 {
            let c = view[i]
            if c >= 48 && c <= 57 {
                value = value * 10 + UInt64(c - 48)
                digits += 1
            } else {
                if digits > 0 { numbers.append(value) }
                value = 0
                digits = 0
                if c != 32 { break }
            }
            i += 1
        }
        guard numbers.count == 3, Int(numbers[0]) != index, clock.measured(numbers[1]) else { return }
        let now = RunClock.now()
        box.stats.record(correctedNanos: now &- numbers[1], uncorrectedNanos: now &- numbers[2])
        shared.received.wrappingAdd(1, ordering: .relaxed)
    }
}

final class ChatFrameHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    let client: ChatClient
    init(client: ChatClient) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text: client.received(frame.unmaskedData)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(NIOAny(pong), promise: nil)
        case .connectionClose:
            if let clock = client.shared.clock.withLock({ $0 }), clock.measured(RunClock.now()) {
                client.box.stats.error("the server closed a chat connection")
            }
            context.close(promise: nil)
        default: break
        }
    }
}
