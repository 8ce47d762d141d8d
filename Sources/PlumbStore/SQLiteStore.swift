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
    ///
    /// A new database file is created with mode 0600 before SQLite opens it: SQLite gives its `-wal` and `-shm` files
    /// the database file's mode, so none of the three is ever readable by others, whatever the umask.
    /// `secure_delete = FAST` zeroes deleted content inside b-tree pages at no extra I/O, so a secret replaced by
    /// its sealed form (or a deleted row) leaves no trace in the page that held it.
    public init(path: String, durability: Durability = .full, migrations: [Migration]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA secure_delete = FAST")
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

    /// Runs `rewrite` (which replaces values in clear by their sealed form) with `secure_delete` fully on, then
    /// checkpoints and truncates the write-ahead log: afterwards neither the database file, its free pages nor the
    /// `-wal` file holds the old values. Returns what `rewrite` returns (how many values it changed).
    public func scrubbing(_ rewrite: (Database) throws -> Int) throws -> Int {
        let changed = try pool.writeWithoutTransaction { db -> Int in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = FAST") }
            var n = 0
            try db.inTransaction(.immediate) {
                n = try rewrite(db)
                return .commit
            }
            return n
        }
        if changed > 0 {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        return changed
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
