import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A small fast generator for request contents (each connection owns one).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Makes the bytes of each request (a whole HTTP/1.1 request, head and body).
public protocol RequestSource: Sendable {
    func next(_ rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer
}

/// The same request every time, encoded once.
public struct FixedRequest: RequestSource {
    let bytes: ByteBuffer
    public init(
        method: String = "GET", path: String, host: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) {
        bytes = ByteBuffer(
            bytes: HTTPRequestBytes.encode(method: method, path: path, host: host, headers: headers, body: body))
    }
    public func next(_ rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer { bytes }
}

public enum HTTPRequestBytes {
    public static func encode(
        method: String, path: String, host: String, headers: [(String, String)], body: [UInt8]
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}

/// The HTTP/1.1 driver: `connections` keep-alive connections, each sending its share of an open schedule (or
/// acting as one virtual user of a closed model), optionally pipelined.
public enum HTTPDriver {
    public static func run(
        _ plan: RunPlan, source: any RequestSource, progress: (@Sendable (LoadProgress) -> Void)? = nil
    ) async throws -> RunResult {
        let clock = RunClock(plan: plan, delay: 0.2)
        let recorders = LoopRecorders(group: Runner.group)
        let slots = (0..<plan.connections).map { i in
            HTTPSlot(
                index: i, plan: plan, clock: clock, source: source, loop: Runner.group.next(), recorders: recorders)
        }
        for slot in slots { slot.loop.execute { slot.connect() } }
        let (stats, seconds) = try await Runner.run(
            plan: plan, clock: clock, recorders: recorders, finished: { slots.allSatisfy { $0.isFinished } },
            progress: progress,
            abandon: {
                var open = 0
                for slot in slots { open += (try? await slot.loop.submit { slot.abandon() }.get()) ?? 0 }
                return open
            })
        return RunResult(stats: stats, seconds: seconds, connections: plan.connections)
    }
}

/// What a run measured.
public struct RunResult: Sendable {
    public var stats: LoadStats
    /// The measured window in seconds (the run without its warm-up).
    public var seconds: Double
    public var connections: Int
    /// Completions per second in the measured window.
    public var throughput: Double { Double(stats.completed) / seconds }
}

/// One connection (open model) or virtual user (closed model), living on one event loop.
final class HTTPSlot: ConnectionSlot, @unchecked Sendable {
    let index: Int
    let plan: RunPlan
    let clock: RunClock
    let source: any RequestSource
    let loop: any EventLoop
    let box: LoopRecorders.Box
    var rng: SplitMix64
    var channel: (any Channel)?
    var parser = ResponseParser()
    /// (intended, sent) of each request in flight, oldest first.
    var inFlight: [(intended: UInt64, sent: UInt64)] = []
    var status = 0
    var arrival: Int
    var lastSend: UInt64 = 0
    var timer: Scheduled<Void>?
    var done = false
    /// Closed model: when this user sends next (after its think time).
    var nextClosedSend: UInt64 = 0
    private let finished = Atomic<Bool>(false)
    var isFinished: Bool { finished.load(ordering: .relaxed) }

    init(
        index: Int, plan: RunPlan, clock: RunClock, source: any RequestSource, loop: any EventLoop,
        recorders: LoopRecorders
    ) {
        self.index = index
        self.plan = plan
        self.clock = clock
        self.source = source
        self.loop = loop
        self.box = recorders.box(for: loop)
        self.rng = SplitMix64(seed: UInt64(index) &* 0x2545_F491_4F6C_DD1D &+ 1)
        self.arrival = index
        nextClosedSend = clock.start
    }

    func connect() {
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SlotHandler(slot: self))
                }
            }
        bootstrap.connect(host: plan.target.host, port: plan.target.port).whenComplete { result in
            switch result {
            case .success(let channel):
                self.channel = channel
                self.parser = ResponseParser()
                self.pump()
            case .failure(let error):
                self.box.stats.error("connect: \(error)")
                self.retryConnect()
            }
        }
    }

    func retryConnect() {
        guard !done else { return finish() }
        if RunClock.now() >= clock.end { return finish() }
        _ = loop.scheduleTask(in: .milliseconds(100)) { self.connect() }
    }

    /// Sends what is due, or arms a timer for the next send.
    func pump() {
        guard let channel, !done else { return }
        var wrote = false
        while inFlight.count < plan.pipeline {
            let now = RunClock.now()
            var intended: UInt64 = 0
            var sendAt: UInt64 = 0
            switch plan.model {
            case .open(let rate, let catchUp):
                guard let t = rate.arrivalTime(arrival) else {
                    done = true
                    break
                }
                intended = clock.at(t)
                sendAt = intended
                if catchUp > 0, intended < now, lastSend > 0 {
                    // Behind schedule: at most catchUp × this connection's share of the current rate.
                    let share = max(rate.value(at: clock.seconds(now)), 1e-9) / Double(plan.connections)
                    sendAt = max(intended, lastSend + UInt64(1e9 / (share * catchUp)))
                }
            case .closed(let vus, _):
                sendAt = max(nextClosedSend, clock.start)
                intended = sendAt
                if sendAt <= now {
                    let t = clock.seconds(now)
                    if t >= vus.duration {
                        done = true
                        break
                    }
                    if vus.value(at: t) <= Double(index) {
                        // Not one of the users active now: look again shortly.
                        nextClosedSend = now + 50_000_000
                        continue
                    }
                    intended = now
                }
            }
            if done { break }
            if intended >= clock.end {
                done = true
                break
            }
            if sendAt > now {
                if timer == nil {
                    timer = loop.scheduleTask(deadline: .uptimeNanoseconds(sendAt)) {
                        self.timer = nil
                        self.pump()
                    }
                }
                break
            }
            let bytes = source.next(&rng, allocator: channel.allocator)
            box.stats.bytesSent += bytes.readableBytes
            channel.write(bytes, promise: nil)
            wrote = true
            inFlight.append((intended, now))
            lastSend = now
            arrival += plan.connections
        }
        if wrote { channel.flush() }
        if done && inFlight.isEmpty { finish() }
    }

    func received(_ buffer: inout ByteBuffer) {
        box.stats.bytesReceived += buffer.readableBytes
        // Completions are handled after the parser is done with the bytes (it is not re-entered). Pipelined answers
        // read together share the last status unless they differ; a differing one is recorded as it ends.
        var status = self.status
        var ended = 0
        var mixed: [Int] = []
        do {
            try parser.feed(&buffer) { event in
                switch event {
                case .head(let s):
                    if ended > 0 && s != status {
                        mixed += Array(repeating: status, count: ended)
                        ended = 0
                    }
                    status = s
                case .body: break
                case .end: ended += 1
                }
            }
        } catch {
            box.stats.error("\(error)")
            channel?.close(promise: nil)
        }
        self.status = status
        let close = parser.closeAfter
        for s in mixed { complete(status: s, close: close) }
        for _ in 0..<ended { complete(status: status, close: close) }
    }

    func complete(status: Int, close: Bool) {
        guard !inFlight.isEmpty else { return }
        let (intended, sent) = inFlight.removeFirst()
        let now = RunClock.now()
        if clock.measured(intended) {
            box.stats.record(correctedNanos: now &- intended, uncorrectedNanos: now &- sent)
            box.stats.statuses[status, default: 0] += 1
            if !(200..<400).contains(status) { box.stats.error("HTTP \(status)") }
        }
        if case .closed(_, let think) = plan.model { nextClosedSend = now + UInt64(think * 1e9) }
        if close {
            channel?.close(promise: nil)
            return
        }
        pump()
    }

    func failed(_ error: any Error) { box.stats.error("\(error)") }

    func closed() {
        channel = nil
        timer?.cancel()
        timer = nil
        // Requests lost with the connection are errors; they are not resent.
        for (intended, _) in inFlight where clock.measured(intended) {
            box.stats.error("connection closed with a request in flight")
        }
        inFlight.removeAll()
        if done { finish() } else { retryConnect() }
    }

    /// The drain time ran out: what is still in flight is unfinished.
    func abandon() -> Int {
        done = true
        let open = inFlight.filter { clock.measured($0.intended) }.count
        inFlight.removeAll()
        channel?.close(promise: nil)
        finish()
        return open
    }

    func finish() {
        done = true
        timer?.cancel()
        if let channel, inFlight.isEmpty { channel.close(promise: nil) }
        finished.store(true, ordering: .relaxed)
    }
}
