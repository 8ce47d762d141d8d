import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Where the load goes.
public struct Target: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `http://host:port` (a path is ignored); `ws://` is accepted for chat.
    public init(url: String) throws {
        guard let u = URL(string: url), let host = u.host, ["http", "ws"].contains(u.scheme ?? "") else {
            throw LoadError("--target must be http://HOST:PORT, got '\(url)'")
        }
        self.init(host: host, port: u.port ?? 80)
    }
}

public struct LoadError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How requests arrive.
public enum Model: Sendable, Equatable {
    /// Requests arrive on a schedule whatever the server does (wrk2, k6's arrival-rate executors); latency is
    /// measured from each request's intended send time. The rate is split over the connections; a connection that
    /// falls behind sends at once and catches up at `catchUp` × its share of the rate (0: as fast as answers come).
    case open(rate: Profile, catchUp: Double)
    /// `vus` virtual users, each sending a request, waiting for the answer, then thinking for `think` seconds.
    case closed(vus: Profile, think: Double)

    public var duration: Double {
        switch self {
        case .open(let rate, _): rate.duration
        case .closed(let vus, _): vus.duration
        }
    }
}

/// One run: the model, its connections, and the window measured. The first `warmup` seconds of the profile are run
/// but not recorded (calibration); results cover the rest.
public struct RunPlan: Sendable {
    public var target: Target
    public var connections: Int
    public var model: Model
    public var warmup: Double
    /// How long to wait for answers still outstanding when the schedule ends; what is still open then is unfinished.
    public var drain: Double = 10
    /// Requests per connection in flight at once (HTTP pipelining); 1 is plain keep-alive.
    public var pipeline: Int = 1

    public init(target: Target, connections: Int, model: Model, warmup: Double) {
        self.target = target
        self.connections = connections
        self.model = model
        self.warmup = warmup
    }
}

/// LoadProgress of a running test, for the live line.
public struct LoadProgress: Sendable {
    public var elapsed: Double
    public var total: Double
    public var completed: Int
    public var errors: Int
    public var p99: Double
    public var rate: Double
}

/// The clock of a run: monotonic nanoseconds, and the measured window.
final class RunClock: Sendable {
    let start: UInt64
    let measureFrom: UInt64
    let end: UInt64

    init(plan: RunPlan, delay: Double = 0.05) {
        start = NIODeadline.now().uptimeNanoseconds + UInt64(delay * 1e9)
        measureFrom = start + UInt64(plan.warmup * 1e9)
        end = start + UInt64(plan.model.duration * 1e9)
    }

    @inline(__always) static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
    @inline(__always) func measured(_ intended: UInt64) -> Bool { intended >= measureFrom && intended < end }
    func seconds(_ t: UInt64) -> Double { Double(Int64(t) - Int64(start)) / 1e9 }
    func at(_ seconds: Double) -> UInt64 { start + UInt64(max(0, seconds) * 1e9) }
}

/// Per event loop statistics, touched only on their loop; read through `snapshot`.
final class LoopRecorders: Sendable {
    final class Box: @unchecked Sendable {
        var stats = LoadStats()
    }
    let boxes: [ObjectIdentifier: Box]
    let loops: [any EventLoop]

    init(group: any EventLoopGroup) {
        loops = group.makeIterator().map { $0 }
        var boxes: [ObjectIdentifier: Box] = [:]
        for loop in loops { boxes[ObjectIdentifier(loop)] = Box() }
        self.boxes = boxes
    }

    @inline(__always) func box(for loop: any EventLoop) -> Box { boxes[ObjectIdentifier(loop)]! }

    func snapshot() async -> LoadStats {
        var total = LoadStats()
        for loop in loops {
            let box = box(for: loop)
            let stats = try? await loop.submit { box.stats }.get()
            if let stats { total.merge(stats) }
        }
        return total
    }
}

/// Runs connections (slots) against the target until the schedule ends and the answers are in, reporting progress
/// once a second.
enum Runner {
    static let group = MultiThreadedEventLoopGroup.singleton

    /// Runs `slots` (started by `start` on their loop), calls `progress` every second, and returns the merged stats.
    static func run(
        plan: RunPlan, clock: RunClock, recorders: LoopRecorders, finished: @escaping @Sendable () -> Bool,
        progress: (@Sendable (LoadProgress) -> Void)?, abandon: @escaping @Sendable () async -> Int
    ) async throws -> (LoadStats, Double) {
        let total = plan.model.duration
        var last = (time: RunClock.now(), completed: 0)
        let deadline = clock.end + UInt64(plan.drain * 1e9)
        while !finished() {
            try await Task.sleep(for: .milliseconds(200))
            let now = RunClock.now()
            if now > deadline { break }
            if let progress, now - last.time >= 1_000_000_000 {
                let stats = await recorders.snapshot()
                let rate = Double(stats.completed - last.completed) / (Double(now - last.time) / 1e9)
                last = (now, stats.completed)
                let p99 = stats.corrected.totalCount > 0 ? Double(stats.corrected.valueAtPercentile(99)) / 1_000 : 0
                progress(
                    LoadProgress(
                        elapsed: min(total, clock.seconds(now)), total: total, completed: stats.completed,
                        errors: stats.errors, p99: p99, rate: rate))
            }
        }
        let unfinished = await abandon()
        var stats = await recorders.snapshot()
        stats.unfinished += unfinished
        return (stats, max(0.001, total - plan.warmup))
    }
}

/// One connection's owner, living on its event loop: it gets the bytes read, the close and the error.
protocol ConnectionSlot: AnyObject, Sendable {
    func received(_ buffer: inout ByteBuffer)
    func closed()
    func failed(_ error: any Error)
}

/// The only handler of a load connection: hands everything to its slot.
final class SlotHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let slot: any ConnectionSlot
    init(slot: any ConnectionSlot) { self.slot = slot }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        slot.received(&buffer)
    }

    func channelInactive(context: ChannelHandlerContext) { slot.closed() }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        slot.failed(error)
        context.close(promise: nil)
    }
}
