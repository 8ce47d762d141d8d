import Foundation
import NIOCore
import NIOPosix
import PlumbLoad
import Synchronization
import Testing

/// A server with a known service time: it answers at once, except that 3 s after its first request it stalls for
/// one second (holding every answer until the stall ends), like a process paused by a long GC or a swap storm.
final class StallingServer: Sendable {
    let channel: any Channel
    let firstRequest = Mutex<UInt64?>(nil)
    static let stallAfter: UInt64 = 3_000_000_000
    static let stallFor: UInt64 = 1_000_000_000

    let stalls: Bool

    init(stalls: Bool = true) async throws {
        self.stalls = stalls
        let holder = Holder()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(server: holder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        holder.server = self
    }

    var port: Int { channel.localAddress!.port! }

    /// When an answer to a request arriving at `now` may leave.
    func releaseTime(_ now: UInt64) -> UInt64 {
        guard stalls else { return now }
        let first = firstRequest.withLock { f in
            if f == nil { f = now }
            return f!
        }
        let start = first + Self.stallAfter
        return now >= start && now < start + Self.stallFor ? start + Self.stallFor : now
    }

    final class Holder: @unchecked Sendable {
        weak var server: StallingServer?
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let server: Holder
        var pending = ByteBuffer()
        var held = 0
        init(server: Holder) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            while let end = pending.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) {
                pending.moveReaderIndex(to: end.upperBound)
                let now = NIODeadline.now().uptimeNanoseconds
                let release = server.server?.releaseTime(now) ?? now
                let response = context.channel.allocator.buffer(
                    string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                if release > now || held > 0 {
                    // Answers leave in order: once one is held, the ones behind it wait too.
                    held += 1
                    let ctx = context
                    context.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(max(release, now))) {
                        self.held -= 1
                        ctx.writeAndFlush(NIOAny(response), promise: nil)
                    }
                } else {
                    context.writeAndFlush(NIOAny(response), promise: nil)
                }
            }
            pending.discardReadBytes()
        }
    }
}

@Suite("Coordinated omission")
struct CoordinatedOmissionTimingTests {
    /// A constant rate R for D = 10 s against a server that stalls S = 1 s. A request due t seconds into the stall
    /// is answered when the stall ends; a connection behind schedule then sends at F × its rate, so the request
    /// due at t leaves at S + t/F and its corrected latency is S − t(1 − 1/F). Above L = 500 ms are those with
    /// t < (S − L)/(1 − 1/F): a fraction (S − L)/((1 − 1/F)·D) of the run — 5.0 % when catching up at once
    /// (F = ∞), 5.6 % for F = 10 (the default), 10 % for F = 2 (wrk2). Uncorrected, only the few requests sent
    /// into the stall's first half wait that long (one per connection). Tolerance: ±1 percentage point.
    @Test(
        "a 1 s stall in a 10 s constant-rate run: the corrected fraction above 500 ms matches the analysis",
        arguments: [0.0, 10, 2])
    func stall(catchUp: Double) async throws {
        let server = try await StallingServer()
        defer { server.channel.close(promise: nil) }
        let connections = 4
        var plan = RunPlan(
            target: Target(host: "127.0.0.1", port: server.port), connections: connections,
            model: .open(rate: .constant(200, for: 10), catchUp: catchUp), warmup: 0)
        plan.drain = 5
        let result = try await HTTPDriver.run(plan, source: FixedRequest(path: "/", host: "127.0.0.1"))
        let stats = result.stats
        #expect(stats.errors == 0, "\(stats.errorSamples)")
        #expect(stats.unfinished == 0)
        #expect(abs(stats.completed - 2_000) <= 2, "completed \(stats.completed)")
        let above = Double(stats.corrected.count(within: 500_000...LoadStats.highest)) / Double(stats.completed)
        let aboveUncorrected =
            Double(stats.uncorrected.count(within: 500_000...LoadStats.highest)) / Double(stats.completed)
        let expected = catchUp == 0 ? 0.05 : 0.05 / (1 - 1 / catchUp)
        print(
            String(
                format:
                    "catch-up %.0f: %.2f %% above 500 ms corrected (expected %.2f %%), %.2f %% uncorrected; p50 %.2f ms p99 %.1f ms corrected, p99 %.2f ms uncorrected",
                catchUp, above * 100, expected * 100, aboveUncorrected * 100,
                Double(stats.corrected.valueAtPercentile(50)) / 1e3,
                Double(stats.corrected.valueAtPercentile(99)) / 1e3,
                Double(stats.uncorrected.valueAtPercentile(99)) / 1e3))
        // scripts/test.sh runs this alone (a *TimingTests type): inside the parallel suite on 2 cores the generator
        // itself was short of CPU during the catch-up and up to 1.45 points more landed above 500 ms.
        #expect(
            abs(above - expected) <= 0.01,
            "catch-up \(catchUp): \(above * 100) % above 500 ms corrected, expected \(expected * 100) %")
        #expect(
            aboveUncorrected <= Double(connections) / Double(stats.completed) + 0.001,
            "uncorrected \(aboveUncorrected * 100) %")
        // The worst corrected latency is the stall itself.
        #expect(abs(Double(stats.corrected.max) / 1e6 - 1.0) < 0.1, "max \(stats.corrected.max) µs")
    }
}
