import NIOCore
import Synchronization

/// Counts open connections by client address and refuses the one past `http.max_connections_per_address`.
///
/// Shared by every event loop of the listener (hence the Mutex); a slot is taken when a connection is accepted and
/// given back when it closes, however it closes. A refused connection is closed before a byte is read or written
/// (for TLS, before the handshake): answering 503 would mean reading the request, which is exactly the work the cap
/// exists to avoid.
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    let exempt: [AddressRange]
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int, exempt: [AddressRange]) {
        self.limit = limit
        self.exempt = exempt
    }

    /// Takes a slot for `channel`'s client address, released when the channel closes; false (no slot) when that
    /// address already holds `limit` connections.
    func admit(_ channel: any Channel) -> Bool {
        guard limit > 0, let address = channel.remoteAddress?.ipAddress else { return true }
        if exempt.contains(where: { $0.contains(address) }) { return true }
        let admitted = open.withLock { counts -> Bool in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in self.release(address) }
        }
        return admitted
    }

    /// Connections open from `address` now.
    func count(_ address: String) -> Int { open.withLock { $0[address, default: 0] } }

    private func release(_ address: String) {
        open.withLock { counts in
            let remaining = counts[address, default: 1] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }
}
