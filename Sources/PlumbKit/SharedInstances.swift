import Synchronization

/// One instance per key (a plugin's data directory) shared by every instance of a plugin: a plugin's instances come
/// and go with the autoscaler, while a group-commit writer, a key ring or a throttle must be one per directory.
public final class SharedInstances<Value: Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])

    public init() {}

    /// The value for `key`, made by `make` the first time.
    public func get(_ key: String, make: () throws -> Value) rethrows -> Value {
        try values.withLock { v in
            if let value = v[key] { return value }
            let value = try make()
            v[key] = value
            return value
        }
    }
}
