import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Tells the connection's `ConnectionGuard` when a response starts and ends.
///
/// The guard works on raw bytes and cannot frame responses (streamed bodies, HEAD); Hummingbird's HTTP handlers write
/// typed response parts through this handler, which sits behind the HTTP codec (one of HTTP1Channel's
/// `additionalChannelHandlers`). The idle timeout starts when the last response has ended, not when the request was
/// read: a slow handler is not an idle client.
final class ResponseTracker: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var connectionGuard: ConnectionGuard?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        connectionGuard = try? context.pipeline.syncOperations.handler(type: ConnectionGuard.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionGuard = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            connectionGuard?.responseStarted()
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            connectionGuard?.responseEnded()
        default:
            context.write(data, promise: promise)
        }
    }
}

@available(*, unavailable)
extension ResponseTracker: Sendable {}
