import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdWebSocket
import NIOCore

extension PlumbServer {
    /// The server side of the listener: guarded HTTP/1.1 with the plugins' WebSocket upgrades, over TLS (with HTTP/2
    /// by ALPN) when `tls:` is configured.
    func makeHTTPServer() -> HTTPServerBuilder {
        let gateway = webSockets
        let settings = config.http
        let limits = ConnectionGuard.Limits(settings)
        let perAddress = ConnectionsPerAddress(
            limit: settings.maxConnectionsPerAddress, exempt: settings.perAddressExempt.compactMap(AddressRange.init))
        // NIO's parser limits sit above the guard's, so the guard answers 431 before the parser fails.
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: settings.maxHeadBytes * 2, maxHeaderListSize: settings.maxHeadBytes * 2,
            maxHeaderFieldCount: ServerConfig.HTTPSettings.maxHeaderFields + 10)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ResponseTracker()], idleTimeout: nil, httpDecoderConfiguration: decoder)
        // Text frames must be UTF-8 (RFC 6455 §8.1): anything else closes the connection with 1007.
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: gateway.settings.maxFrameBytes, autoPing: .enabled(timePeriod: gateway.settings.pingInterval),
            validateUTF8: true)
        let certificates = self.certificates
        return HTTPServerBuilder { responder in
            GuardedHTTPChannel(
                http1: HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: .init(http1: http1, ws: webSocket),
                    shouldUpgrade: { head, channel, _ in gateway.shouldUpgrade(head, channel: channel) }),
                http2: certificates?.settings.http2 == true
                    ? HTTP2Channel(
                        responder: responder,
                        configuration: .init(
                            idleTimeout: .milliseconds(Int64(settings.idleTimeout * 1_000)),
                            streamConfiguration: .init()))
                    : nil,
                certificates: certificates, limits: limits, perAddress: perAddress)
        }
    }
}
