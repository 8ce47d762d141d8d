import Foundation
import Synchronization

/// A fresh directory under the system temp dir, removed when the test process ends once `remove()` is called.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "plumb-test") {
        path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Removes the directory when the test process ends, not now: its databases may still be open when the test
    /// returns (a server's stores are held by its background services, and ARC ends lifetimes when it likes). SQLite
    /// tells files apart by inode within a process: a database deleted while open frees its inode, another test's new
    /// database can get the same one, and SQLite then takes it for the deleted file ("disk I/O error", seen in CI).
    public func remove() {
        let first = Self.atExit.withLock { paths in
            paths.append(path)
            return paths.count == 1
        }
        if first {
            atexit {
                for path in TemporaryDirectory.atExit.withLock({ $0 }) {
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }
    }

    static let atExit = Mutex<[String]>([])

    /// A fresh directory already registered for removal when the test process ends (for one made inline).
    public static func scratch(_ prefix: String) -> TemporaryDirectory {
        let directory = TemporaryDirectory(prefix)
        directory.remove()
        return directory
    }
}

/// Paths inside the checkout the tests run from.
public enum Checkout {
    /// The repository root (the folder holding Package.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        fatalError("cannot find the checkout root from \(#filePath)")
    }()

    /// The `plumb` executable built alongside the tests (`swift build --build-tests` builds it).
    public static var plumbBinary: String {
        let candidates = [root + "/.build/debug/plumb", root + "/.build/release/plumb"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }
}
