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
    /// Where the object lives (nil: no such object).
    func tier(_ key: String) throws -> BlobTier?
    /// Moves an object to the archive tier (maximum compression; reads need a restore).
    func archive(_ key: String) throws
    /// A hot copy of an archived object, readable until `until` (epoch seconds).
    func restore(_ key: String, until: Int64) throws
    /// Archives hot objects under `prefix` older than `archiveAfter` seconds; drops restored copies past their time.
    func applyLifecycle(
        prefix: String, archiveAfter: Double, now: Double
    ) throws -> (archived: [String], expired: [String])
    /// Keys in the archive tier under a prefix.
    func listArchived(prefix: String) -> [String]
}

/// Storage tiers of an object (S3 Standard, Glacier, Glacier restored).
public enum BlobTier: Sendable, Equatable {
    case hot
    case archived
    case restored(until: Int64)
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
    public func tier(_ key: String) throws -> BlobTier? { nil }
    public func archive(_ key: String) throws { throw Unavailable() }
    public func restore(_ key: String, until: Int64) throws { throw Unavailable() }
    public func applyLifecycle(
        prefix: String, archiveAfter: Double, now: Double
    ) throws -> (archived: [String], expired: [String]) { ([], []) }
    public func listArchived(prefix: String) -> [String] { [] }
}
