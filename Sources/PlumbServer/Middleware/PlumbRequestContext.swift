import Hummingbird
import NIOCore

/// The request context of every Plumb route: Hummingbird's core storage plus the peer's address, which the
/// audit trail records.
public struct PlumbRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
