import PlumbKit
import Synchronization

/// One open connection as the transport sees it: a bounded send queue and a way to close.
public protocol ConnectionSink: AnyObject, Sendable {
    /// Queues a text frame without waiting; over the buffer limit the connection closes as a slow consumer.
    func enqueue(_ text: String) -> PostResult
    func close(code: Int, reason: String)
}

/// Every open WebSocket connection by id: what `@connections` posts go through.
public final class ConnectionRegistry: Sendable {
    struct Entry {
        let plugin: String
        let sink: any ConnectionSink
    }

    private let state = Mutex<(byID: [String: Entry], perPlugin: [String: Int])>(([:], [:]))

    public init() {}

    public func register(_ id: String, plugin: String, sink: any ConnectionSink) {
        state.withLock { s in
            s.byID[id] = Entry(plugin: plugin, sink: sink)
            s.perPlugin[plugin, default: 0] += 1
        }
    }

    public func remove(_ id: String) {
        state.withLock { s in
            guard let entry = s.byID.removeValue(forKey: id) else { return }
            s.perPlugin[entry.plugin, default: 1] -= 1
        }
    }

    public func post(_ text: String, to id: String) -> PostResult {
        guard let sink = state.withLock({ $0.byID[id]?.sink }) else { return .gone }
        return sink.enqueue(text)
    }

    public func close(_ id: String, code: Int, reason: String) {
        state.withLock { $0.byID[id]?.sink }?.close(code: code, reason: reason)
    }

    /// Up to `limit` open connections as (id, plugin), sorted by id.
    public func list(limit: Int) -> [(id: String, plugin: String)] {
        let all: [(id: String, plugin: String)] = state.withLock { s in
            s.byID.map { (id: $0.key, plugin: $0.value.plugin) }
        }
        return Array(all.sorted { $0.id < $1.id }.prefix(limit))
    }

    /// Every open connection's sink.
    public var sinks: [any ConnectionSink] { state.withLock { $0.byID.values.map(\.sink) } }

    public func contains(_ id: String) -> Bool { state.withLock { $0.byID[id] != nil } }

    public func count(plugin: String) -> Int { state.withLock { $0.perPlugin[plugin, default: 0] } }

    public var count: Int { state.withLock { $0.byID.count } }
}
