import Foundation
import NIOCore
import NIOPosix

/// One request on its own connection (setup requests, metric pushes): not a load path, kept simple. Setup is not
/// measured, and a scenario's setup sends its requests at once (20 sensor projects, say), so each may queue behind
/// the others on a busy server: 30 s before it counts as unanswered.
public enum OneShotHTTP {
    public static func send(
        _ target: Target, method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Double = 30
    ) async throws -> (status: Int, body: [UInt8]) {
        let loop = Runner.group.next()
        let promise = loop.makePromise(of: (Int, [UInt8]).self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(Int64(timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(promise: promise))
                }
            }
            .connect(host: target.host, port: target.port).get()
        let bytes = HTTPRequestBytes.encode(
            method: method, path: path, host: target.host, headers: headers + [("Connection", "close")], body: body)
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
        let timer = loop.scheduleTask(in: .milliseconds(Int64(timeout * 1_000))) {
            promise.fail(LoadError("\(method) \(path): no answer in \(timeout) s"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let (status, body) = try await promise.futureResult.get()
        return (status, body)
    }

    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let promise: EventLoopPromise<(Int, [UInt8])>
        var parser = ResponseParser()
        var status = 0
        var body: [UInt8] = []
        var done = false
        init(promise: EventLoopPromise<(Int, [UInt8])>) { self.promise = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            var ended = false
            do {
                try parser.feed(&buffer) { event in
                    switch event {
                    case .head(let s): status = s
                    case .body(let b): body += b.readableBytesView
                    case .end: ended = true
                    }
                }
            } catch {
                finish(.failure(error), context)
                return
            }
            if ended { finish(.success((status, body)), context) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            parser.closed { if case .end = $0 { finish(.success((status, body)), context) } }
            finish(.failure(LoadError("the connection closed before the answer")), context)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { finish(.failure(error), context) }

        func finish(_ result: Result<(Int, [UInt8]), any Error>, _ context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
            context.close(promise: nil)
        }
    }
}
