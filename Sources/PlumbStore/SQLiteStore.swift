import Foundation
import GRDB

/// How hard a commit waits for the disk.
///
/// `full` fsyncs the write-ahead log on every commit (a 2xx survives power loss); `normal` leaves the
/// WAL in the page cache (a 2xx survives a process crash, not a power cut). Plumb defaults to `full`
/// and amortises the fsync with group commit.
public enum Durability: String, Sendable, Codable {
    case full
    case normal
}

/// One SQLite database file of one area (metrics, a plugin, …), opened in WAL mode.
///
/// Every area owns its migrations; they run at open, in order, each once.
public struct SQLiteStore: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) `path` and applies `migrations` in order.
    public init(path: String, durability: Durability = .full, migrations: [Migration]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError(code: .cannotOpen, message: "cannot open database \(path): \(error)")
        }
        self.path = path
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier) { db in try migration.apply(db) }
        }
        try migrator.migrate(pool)
    }

    /// Bytes used on disk by the database, its WAL and shared-memory file.
    public func bytesOnDisk() -> Int64 {
        [path, path + "-wal", path + "-shm"].reduce(0) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)??.int64Value
            return total + (size ?? 0)
        }
    }
}

/// A schema step of one area, applied once and remembered in the database.
public struct Migration: Sendable {
    public let identifier: String
    public let apply: @Sendable (Database) throws -> Void

    public init(_ identifier: String, apply: @escaping @Sendable (Database) throws -> Void) {
        self.identifier = identifier
        self.apply = apply
    }
}

/// An error of the storage layer.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case cannotOpen
        case corrupt
        /// A bad argument (e.g. an object key).
        case invalid
        /// A read or write of a file failed.
        case io
        /// The object is in the archive tier and needs a restore.
        case archived
    }
    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
