import Foundation

/// The data directory holds webhook secrets, confirmation tokens, password hashes and signing keys: it is the
/// owner's alone (0700, files 0600), however it was created.
public enum DataDirectory {
    /// What `secure` found and changed.
    public struct Tightening: Sendable, Equatable {
        /// Files and directories looked at (symbolic links are left alone, never followed).
        public var examined = 0
        /// Those that had group or other permission bits, now removed.
        public var tightened = 0
    }

    /// Creates `path` (mode 0700) if needed and removes group and other permissions from it and everything below it:
    /// a 0755 directory becomes 0700, a 0644 file 0600.
    public static func secure(_ path: String) throws -> Tightening {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var result = Tightening()
        // The directory itself may be a link (`/var/lib/plumb` → a volume): its target is what gets tightened.
        try tighten(URL(fileURLWithPath: path).resolvingSymlinksInPath().path, &result)
        return result
    }

    static func tighten(_ path: String, _ result: inout Tightening) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // removed meanwhile
        let type = info.st_mode & S_IFMT
        guard type == S_IFDIR || type == S_IFREG else { return }
        result.examined += 1
        let mode = info.st_mode & 0o7777
        if mode & 0o077 != 0 {
            guard chmod(path, mode & ~0o077) == 0 else {
                throw StoreError(
                    code: .io, message: "cannot tighten the permissions of \(path): \(String(cString: strerror(errno)))"
                )
            }
            result.tightened += 1
        }
        guard type == S_IFDIR else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            try tighten(path + "/" + name, &result)
        }
    }
}
