import CoreMetrics
import PlumbKit

/// A plugin's blob store with its requests and bytes counted in `Plumb/Usage` (dimension `Plugin`), as S3 prices
/// requests: `BlobPutRequests` (writes, archives, restores, lifecycle passes), `BlobGetRequests` (reads, listings),
/// and the bytes moved in and out (`BlobBytesWritten`, `BlobBytesRead`). Counted once the store did the work.
public struct MeteredBlobStore: BlobStoring {
    let base: any BlobStoring
    let putRequests: Counter
    let getRequests: Counter
    let bytesWritten: Counter
    let bytesRead: Counter

    public init(_ base: any BlobStoring, plugin: String, factory: MetricsFactory) {
        self.base = base
        let dimensions = [("Plugin", plugin)]
        putRequests = Counter(label: "Plumb/Usage/BlobPutRequests", dimensions: dimensions, factory: factory)
        getRequests = Counter(label: "Plumb/Usage/BlobGetRequests", dimensions: dimensions, factory: factory)
        bytesWritten = Counter(label: "Plumb/Usage/BlobBytesWritten", dimensions: dimensions, factory: factory)
        bytesRead = Counter(label: "Plumb/Usage/BlobBytesRead", dimensions: dimensions, factory: factory)
    }

    public func put(_ key: String, _ bytes: [UInt8], compressionLevel: Int32?) throws {
        try base.put(key, bytes, compressionLevel: compressionLevel)
        putRequests.increment()
        bytesWritten.increment(by: bytes.count)
    }

    public func get(_ key: String) throws -> [UInt8]? {
        let bytes = try base.get(key)
        getRequests.increment()
        if let bytes { bytesRead.increment(by: bytes.count) }
        return bytes
    }

    public func storedSize(_ key: String) -> Int? { base.storedSize(key) }

    public func list(prefix: String) -> [String] {
        getRequests.increment()
        return base.list(prefix: prefix)
    }

    public func delete(_ key: String) throws { try base.delete(key) }
    public func tier(_ key: String) throws -> BlobTier? { try base.tier(key) }

    public func archive(_ key: String) throws {
        try base.archive(key)
        putRequests.increment()
    }

    public func restore(_ key: String, until: Int64) throws {
        try base.restore(key, until: until)
        putRequests.increment()
    }

    public func applyLifecycle(
        prefix: String, archiveAfter: Double, now: Double
    ) throws -> (archived: [String], expired: [String]) {
        let outcome = try base.applyLifecycle(prefix: prefix, archiveAfter: archiveAfter, now: now)
        putRequests.increment(by: outcome.archived.count)
        return outcome
    }

    public func listArchived(prefix: String) -> [String] {
        getRequests.increment()
        return base.listArchived(prefix: prefix)
    }
}
