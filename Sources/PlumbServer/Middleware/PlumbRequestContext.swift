import Hummingbird
import NIOCore

/// The request context of every Plumb route: Hummingbird's core storage, the peer's address (the audit trail records
/// it), and the caller once a credential was checked.
public struct PlumbRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Set by the access checks (`AccessMiddleware`, `FunctionAccessMiddleware`); anonymous before them.
    public var caller: Caller = .anonymous

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
