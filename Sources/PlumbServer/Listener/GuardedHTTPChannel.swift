import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import NIOSSL
import NIOTLS

/// Plumb's connection setup: the per-address cap, then TLS when configured, then the connection guard, then
/// Hummingbird's HTTP/1.1 channel with WebSocket upgrades — or, when the client chose `h2` by ALPN, its HTTP/2 channel.
///
/// It wraps Hummingbird's channels the way HummingbirdTLS's `TLSChannel` and HummingbirdHTTP2's `HTTP2UpgradeChannel`
/// do, with two differences: the TLS context is read from a `CertificateStore` per connection (so a SIGHUP reload
/// reaches new connections only), and setup never fails. A failed child-channel setup is reported to the server
/// channel as an error, which ends NIO's stream of accepted connections and with it the whole listener; so a refused
/// or vanished connection becomes a `.closed` value that `handle` ignores.
struct GuardedHTTPChannel: ServerChildChannel {
    /// What the client ended up speaking.
    enum Negotiated: Sendable {
        /// Set up when the first request head is complete (see `ConnectionGuard`).
        case http1(EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value>)
        case http2(HTTP2Channel.Value)
    }

    struct Value: ServerChildChannelValue {
        enum Connection: Sendable {
            /// Refused by the cap, or closed before it was set up.
            case closed
            /// Set up when the first request head is complete (see `ConnectionGuard`).
            case http1(EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value>)
            /// TLS: the protocol is known once the handshake is done.
            case negotiating(EventLoopFuture<Negotiated>)
        }

        let connection: Connection
        let channel: any Channel
    }

    let http1: HTTP1WebSocketUpgradeChannel
    let http2: HTTP2Channel?
    let certificates: CertificateStore?
    let limits: ConnectionGuard.Limits
    let perAddress: ConnectionsPerAddress

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let closed = Value(connection: .closed, channel: channel)
        guard perAddress.admit(channel) else {
            Self.refused.increment()
            logger.debug(
                "connection refused: the address holds its maximum of connections",
                metadata: [
                    "address": "\(channel.remoteAddress?.ipAddress ?? "?")", "limit": "\(perAddress.limit)",
                ])
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededFuture(closed)
        }
        let setup: EventLoopFuture<Value>
        let http1Ready = channel.eventLoop.makePromise(of: HTTP1WebSocketUpgradeChannel.Value.self)
        let connectionGuard = ConnectionGuard(
            limits: limits,
            startHTTP: { channel in
                let started = http1.setup(channel: channel, logger: logger)
                http1Ready.completeWith(started)
                return started.map { _ in }
            },
            abandoned: { http1Ready.fail(ChannelError.ioOnClosedChannel) })
        do {
            let pipeline = channel.pipeline.syncOperations
            if let certificates {
                try pipeline.addHandler(NIOSSLServerHandler(context: certificates.context))
                try pipeline.addHandler(connectionGuard)
                let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, channel in
                    switch result {
                    case .negotiated("http/1.1"), .fallback:
                        return channel.eventLoop.makeSucceededFuture(.http1(http1Ready.futureResult))
                    case .negotiated(let name):
                        if name == "h2", let http2 {
                            return http2.setup(channel: channel, logger: logger).map { .http2($0) }
                        }
                        return channel.close().flatMapThrowing { throw TLSError.unexpectedProtocol(name) }
                    }
                }
                try pipeline.addHandler(negotiation)
                setup = channel.eventLoop.makeSucceededFuture(
                    Value(connection: .negotiating(negotiation.protocolNegotiationResult), channel: channel))
            } else {
                try pipeline.addHandler(connectionGuard)
                setup = channel.eventLoop.makeSucceededFuture(
                    Value(connection: .http1(http1Ready.futureResult), channel: channel))
            }
        } catch {
            setup = channel.eventLoop.makeFailedFuture(error)
        }
        return setup.flatMapError { error in
            logger.debug("connection closed during setup", metadata: ["error": "\(error)"])
            http1Ready.fail(error)
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededFuture(closed)
        }
    }

    func handle(value: Value, logger: Logger) async {
        switch value.connection {
        case .closed:
            return
        case .http1(let connection):
            // Fails when the connection ended before a whole head arrived (timed out, refused, gone).
            guard let connection = try? await connection.get() else { return }
            await http1.handle(value: connection, logger: logger)
        case .negotiating(let negotiation):
            do {
                switch try await negotiation.get() {
                case .http1(let connection):
                    guard let connection = try? await connection.get() else { return }
                    await http1.handle(value: connection, logger: logger)
                case .http2(let connection):
                    await http2?.handle(value: connection, logger: logger)
                }
            } catch {
                // A failed handshake (a client that does not trust the certificate, a port scanner) is the client's
                // business; the connection is closed.
                logger.debug("TLS connection ended before a protocol was chosen", metadata: ["error": "\(error)"])
            }
        }
    }

    private enum TLSError: Error { case unexpectedProtocol(String) }

    private static let refused = Counter(label: "Plumb/HTTP/ConnectionsRefused")
}
