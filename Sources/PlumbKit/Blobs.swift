/// The plugin's object store (`<data>/plugins/<name>/blobs`): keys are relative paths; writes are atomic and
/// durable; objects may be zlib-compressed (reads decompress).
public protocol BlobStoring: Sendable {
    /// Writes an object, replacing any under the same key; `compressionLevel` 1–9 compresses with zlib.
    func put(_ key: String, _ bytes: [UInt8], compressionLevel: Int32?) throws
    /// The object's bytes, or nil.
    func get(_ key: String) throws -> [UInt8]?
    /// Bytes on disk, or nil.
    func storedSize(_ key: String) -> Int?
    /// Keys under a prefix, sorted.
    func list(prefix: String) -> [String]
    func delete(_ key: String) throws
}

/// For plugins run outside a server: every call fails.
public struct NoBlobStore: BlobStoring {
    public init() {}
    struct Unavailable: Error {}
    public func put(_ key: String, _ bytes: [UInt8], compressionLevel: Int32?) throws { throw Unavailable() }
    public func get(_ key: String) throws -> [UInt8]? { throw Unavailable() }
    public func storedSize(_ key: String) -> Int? { nil }
    public func list(prefix: String) -> [String] { [] }
    public func delete(_ key: String) throws { throw Unavailable() }
}
