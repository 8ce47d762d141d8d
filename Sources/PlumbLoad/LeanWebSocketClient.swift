import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import Synchronization

/// A WebSocket client built from NIO handlers with no task per frame: frames are handled on the event loop as they
/// are decoded, so a benchmark's client costs less than the server it measures. Handshake by hand (RFC 6455 §4.1).
public enum LeanWebSocketClient {
    /// Connects to `host:port` with `path` (and query) and installs `handler` for frames; fails unless the server
    /// answers 101.
    public static func connect(
        host: String, port: Int, path: String, group: any EventLoopGroup,
        handler: @escaping @Sendable () -> any ChannelInboundHandler & Sendable
    ) async throws -> any Channel {
        let upgraded = group.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HandshakeHandler(host: host, port: port, path: path, upgraded: upgraded, frameHandler: handler))
                }
            }
            .connect(host: host, port: port).get()
        try await upgraded.futureResult.get()
        return channel
    }

    final class HandshakeHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let host: String
        let port: Int
        let path: String
        let upgraded: EventLoopPromise<Void>
        let frameHandler: @Sendable () -> any ChannelInboundHandler & Sendable
        var received: ByteBuffer?

        init(
            host: String, port: Int, path: String, upgraded: EventLoopPromise<Void>,
            frameHandler: @escaping @Sendable () -> any ChannelInboundHandler & Sendable
        ) {
            self.host = host
            self.port = port
            self.path = path
            self.upgraded = upgraded
            self.frameHandler = frameHandler
        }

        func channelActive(context: ChannelHandlerContext) {
            let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let request =
                "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            if received == nil { received = buffer } else { received!.writeBuffer(&buffer) }
            guard let view = received?.readableBytesView, let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
                return
            }
            let headerLength = end.upperBound - view.startIndex
            let header = received!.readString(length: headerLength) ?? ""
            guard header.hasPrefix("HTTP/1.1 101") else {
                upgraded.fail(HandshakeError(status: String(header.prefix(while: { $0 != "\r" }))))
                context.close(promise: nil)
                return
            }
            let leftover = received!
            received = nil
            do {
                let sync = context.pipeline.syncOperations
                try sync.addHandler(
                    ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)), position: .after(self))
                try sync.addHandler(WebSocketFrameEncoder(), position: .first)
                try sync.addHandler(frameHandler(), position: .last)
            } catch {
                upgraded.fail(error)
                return
            }
            upgraded.succeed()
            if leftover.readableBytes > 0 { context.fireChannelRead(NIOAny(leftover)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            upgraded.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            upgraded.fail(HandshakeError(status: "connection closed during the handshake"))
            context.fireChannelInactive()
        }
    }

    struct HandshakeError: Error, CustomStringConvertible {
        let status: String
        var description: String { "WebSocket handshake failed: \(status)" }
    }

    /// Writes a masked text frame.
    public static func sendText(_ text: String, on channel: any Channel) -> EventLoopFuture<Void> {
        let frame = WebSocketFrame(
            fin: true, opcode: .text, maskKey: .random(), data: channel.allocator.buffer(string: text))
        return channel.writeAndFlush(frame)
    }
}
